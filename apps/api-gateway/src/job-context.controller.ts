import { Body, Controller, Get, Param, Patch, type Provider } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { MikroORM } from '@mikro-orm/postgresql';
import { CurrentPrincipal, type Principal } from '@trigrun/accounts';
import { MAX_CONTEXT_KEY_LENGTH, MAX_CONTEXT_KEYS_PER_PATCH, MAX_CONTEXT_VALUE_BYTES } from '@trigrun/job-domain';
import { JobContextService, JobContextStore } from '@trigrun/jobs';
import { ORM } from '@trigrun/nest';
import { JobContextDto } from './dto/job.dto';

export const jobContextProviders: Provider[] = [
  { provide: JobContextStore, inject: [ORM], useFactory: (orm: MikroORM) => new JobContextStore(orm) },
  JobContextService,
];

/** A workflow's persisted context store (docs/workflows.md). Writes need owner or admin (the auth guard). */
@ApiTags('jobs')
@ApiBearerAuth()
@Controller('v1/jobs/:id/context')
export class JobContextController {
  constructor(private readonly contexts: JobContextService) {}

  @Get()
  @ApiOperation({ summary: "The job's persisted context store; each new execution's context starts from it" })
  @ApiOkResponse({ type: JobContextDto })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.contexts.get(principal, id);
  }

  @Patch()
  @ApiOperation({ summary: 'Set keys (string values) and delete keys (null) of the context store in one atomic change' })
  @ApiBody({
    description:
      `A flat object: a string sets the key, null deletes it; anything else is a 400. ` +
      `Keys 1-${MAX_CONTEXT_KEY_LENGTH} characters, at most ${MAX_CONTEXT_KEYS_PER_PATCH} per request, values at most ${MAX_CONTEXT_VALUE_BYTES / 1024} KiB.`,
    schema: { type: 'object', additionalProperties: { type: 'string', nullable: true, description: 'null deletes the key' } },
    examples: { set_and_delete: { value: { cursor: '2026-03-15T10:00:00.000Z', stale_key: null } } },
  })
  @ApiOkResponse({ type: JobContextDto, description: 'the store after the change' })
  // `unknown`, not a DTO: the keys are the user's, so the body is checked by normalizeContextPatch.
  patch(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.contexts.patch(principal, id, body);
  }
}
