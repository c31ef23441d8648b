import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal, requireRole } from '@trigrun/accounts';
import { ExecutionStore, replayExecution } from '@trigrun/execution-engine';
import { ExecutionQueries, project, toApi } from '@trigrun/execution-read-model';
import { ApiError } from '@trigrun/nest';
import { ListExecutionsQueryDto } from './dto/job.dto';
import { filtersOf } from './jobs.controller';

@ApiTags('executions')
@ApiBearerAuth()
@Controller('v1/executions')
export class ExecutionsController {
  constructor(
    private readonly executions: ExecutionQueries,
    private readonly store: ExecutionStore,
  ) {}

  @Get()
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListExecutionsQueryDto) {
    return this.executions.list(principal.workspaceId, filtersOf(query), query.limit ?? 50, query.cursor);
  }

  @Get(':id')
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    const execution = await this.executions.get(principal.workspaceId, id);
    if (!execution) throw ApiError.notFound('Execution');
    return execution;
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiOperation({ summary: 'Run an execution again with the same input (admins and owners); answers with the new, queued execution' })
  async replay(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    requireRole(principal, 'owner', 'admin');
    const queued = await replayExecution(this.store, principal.workspaceId, id, () => new Date());
    if (!queued) throw ApiError.notFound('Execution');
    return toApi(project(null, queued)!);
  }
}
