import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '@trigrun/accounts';
import { ExecutionQueries } from '@trigrun/execution-read-model';
import { ApiError } from '@trigrun/nest';
import { ListExecutionsQueryDto } from './dto/job.dto';
import { filtersOf } from './jobs.controller';

@ApiTags('executions')
@ApiBearerAuth()
@Controller('v1/executions')
export class ExecutionsController {
  constructor(private readonly executions: ExecutionQueries) {}

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
}
