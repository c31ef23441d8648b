import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '@trigrun/accounts';
import { ExecutionQueries } from '@trigrun/execution-read-model';
import { JobsService } from '@trigrun/jobs';
import { CreateJobDto, ListExecutionsQueryDto, ListJobsQueryDto, UpdateJobDto, jobCommandOf } from './dto/job.dto';
import { JobsQuota, RunNowLimit } from './limits';

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly executions: ExecutionQueries,
  ) {}

  @Post()
  @UseInterceptors(JobsQuota)
  @ApiOperation({ summary: 'Create a job: a request kind (request) or a workflow (steps[]); a one_time job queues its execution at once' })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateJobDto) {
    return this.jobs.create(principal, jobCommandOf(body));
  }

  @Get()
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListJobsQueryDto) {
    return this.jobs.list(principal, { state: query.state, kind: query.kind }, query.limit ?? 50, query.cursor);
  }

  @Get(':id')
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.jobs.get(principal, id);
  }

  @Patch(':id')
  update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: UpdateJobDto) {
    return this.jobs.update(principal, id, jobCommandOf(body));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    await this.jobs.remove(principal, id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  pause(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.jobs.pause(principal, id);
  }

  @Post(':id/resume')
  @HttpCode(200)
  resume(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.jobs.resume(principal, id);
  }

  @Post(':id/run-now')
  @UseGuards(RunNowLimit)
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue an execution now; answers with the queued execution' })
  runNow(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.jobs.runNow(principal, id);
  }

  @Get(':id/executions')
  async executionsOf(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: ListExecutionsQueryDto) {
    await this.jobs.find(principal, id);
    return this.executions.list(principal.workspaceId, { ...filtersOf(query), jobId: id }, query.limit ?? 50, query.cursor);
  }
}

export const filtersOf = (q: ListExecutionsQueryDto) => ({ status: q.status, jobId: q.job_id, jobName: q.job_name, from: q.from, to: q.to });
