import { Controller, Get, HttpCode, Logger, Param, Post, type Provider, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { MikroORM } from '@mikro-orm/postgresql';
import { CurrentPrincipal, type Principal, requireRole } from '@trigrun/accounts';
import { ExecutionStore, parkTokenAad, replayExecution } from '@trigrun/execution-store';
import { ExecutionQueries, project, toApi, waitingPayloadsOpenedWith } from '@trigrun/execution-read-model';
import { ApiError, ORM } from '@trigrun/nest';
import { SECRET_CIPHER, type SecretCipher } from '@trigrun/secrets';
import { ListExecutionsQueryDto } from './dto/job.dto';
import { filtersOf } from './jobs.controller';

/**
 * The executions read model, with `waiting_payload` URLs opened at read time: the row holds the
 * parking token only sealed under the master key, bound to its execution and step.
 */
export function executionQueriesProvider(config: { readonly TRIGRUN_PUBLIC_URL: string }): Provider {
  const log = new Logger('ExecutionQueries');
  return {
    provide: ExecutionQueries,
    inject: [ORM, SECRET_CIPHER],
    useFactory: (orm: MikroORM, cipher: SecretCipher) =>
      new ExecutionQueries(
        orm,
        waitingPayloadsOpenedWith({
          publicUrl: config.TRIGRUN_PUBLIC_URL,
          openToken: (executionId, waiting) =>
            cipher.decrypt(waiting.tokenSealed.ciphertext, waiting.tokenSealed.key_version, parkTokenAad(executionId, waiting.stepId)),
          warn: (message) => log.warn(message),
        }),
      ),
  };
}

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
