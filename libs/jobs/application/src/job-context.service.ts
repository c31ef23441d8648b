import { Injectable } from '@nestjs/common';
import type { Principal } from '@trigrun/accounts';
import { STEP_KINDS } from '@trigrun/execution-contracts';
import { normalizeContextPatch } from '@trigrun/job-domain';
import { DomainError } from '@trigrun/util';
import { JobContextStore, type JobContextState } from './job-context.store';
import { JobsService } from './jobs.service';

/** `GET|PATCH /v1/jobs/:id/context`: the job must be the caller's workspace's; roles are the auth guard's business. */
@Injectable()
export class JobContextService {
  constructor(
    private readonly jobs: JobsService,
    private readonly store: JobContextStore,
  ) {}

  async get(principal: Principal, jobId: string): Promise<JobContextState> {
    const job = await this.jobs.find(principal, jobId);
    return this.store.get(job.id);
  }

  async patch(principal: Principal, jobId: string, body: unknown): Promise<JobContextState> {
    const changes = normalizeContextPatch(body);
    if (!changes.value) throw DomainError.validation(changes.problems);
    const job = await this.jobs.find(principal, jobId);
    // Request jobs never read a context: storing one for them would only mislead.
    if (!STEP_KINDS.includes(job.kind)) throw DomainError.conflict(`A ${job.kind} job has no context store; only workflow and webhook_trigger jobs do`);
    return this.store.patch(job.id, job.workspaceId, changes.value);
  }
}
