import { Injectable } from '@nestjs/common';
import { type EntityManager, LockMode, type MikroORM } from '@mikro-orm/postgresql';
import type { Principal } from '@trigrun/accounts';
import type { ExecutionTrigger, JobKind, WithdrawalReason } from '@trigrun/execution-contracts';
import { ExecutionStore, launchExecution } from '@trigrun/execution-engine';
import { type ExecutionApi, project, toApi } from '@trigrun/execution-read-model';
import { JOB_KINDS, type Problem, SUPPORTED_KINDS, normalizeJobFields, snapshotOf } from '@trigrun/job-domain';
import { ApiError, InjectOrm } from '@trigrun/nest';
import { type NormalizedSchedule, nextRunAt } from '@trigrun/scheduling-domain';
import { decodeCursor, encodeCursor, executionIdForSlot, newId } from '@trigrun/util';
import { Job, type JobApi, type JobState, jobView } from './job.entity';

/** The job fields a client may send (already shape-checked by the DTO at the edge). */
export interface JobInput {
  name?: string;
  kind?: string;
  state?: string;
  schedule?: unknown;
  request?: object;
  steps?: unknown;
  retry_policy?: object;
  max_concurrent_executions?: number;
  max_workflow_duration_seconds?: number | null;
  on_success_url?: string | null;
  on_failure_url?: string | null;
  response_output_template?: unknown;
}

interface ArmedRun {
  readonly executionId: string;
  readonly slot: Date;
}

export interface JobFilters {
  readonly state?: string;
  readonly kind?: string;
}

@Injectable()
export class JobsService {
  constructor(
    @InjectOrm() private readonly orm: MikroORM,
    private readonly executions: ExecutionStore,
  ) {}

  async create(principal: Principal, input: JobInput): Promise<JobApi> {
    const problems: Problem[] = [];
    const kind = input.kind as JobKind;
    if (!JOB_KINDS.includes(kind)) problems.push({ field: 'kind', message: `must be one of ${JOB_KINDS.join(', ')}` });
    else if (!SUPPORTED_KINDS.includes(kind)) problems.push({ field: 'kind', message: `"${kind}" jobs are not available in this version yet` });
    const state = (input.state ?? 'active') as JobState;
    if (state !== 'active' && state !== 'draft') problems.push({ field: 'state', message: 'must be active or draft when creating a job' });
    const now = new Date();
    // A kind this build does not run has no definition rules to check yet.
    const definition = SUPPORTED_KINDS.includes(kind) ? this.definitionOf(kind, input, problems, now, true) : {};
    if (problems.length > 0) throw ApiError.validation([...problems]);

    const em = this.orm.em.fork();
    const job = em.create(Job, {
      id: newId('job', now.getTime()),
      workspaceId: principal.workspaceId,
      name: input.name!,
      kind,
      state,
      ...definition,
      createdAt: now,
      updatedAt: now,
    } as Job);
    job.nextRunAt = state === 'active' ? nextSlot(job, now) : null;
    // The job row and its first execution commit together: the execution's first event is
    // stored before the row commits, and a failed publish rolls the row back.
    await em.transactional(async (tx) => {
      tx.persist(job);
      await tx.flush();
      if (job.kind === 'one_time' && job.state === 'active') await this.launchOnce(tx, job, now);
    });
    return jobView(job);
  }

  async list(principal: Principal, filters: JobFilters, limit: number, cursor?: string) {
    const where: Record<string, unknown> = { workspaceId: principal.workspaceId, deletedAt: null };
    if (filters.state) where.state = filters.state;
    if (filters.kind) where.kind = filters.kind;
    const after = cursor ? decodeCursor(cursor) : null;
    if (after) where.id = { $lt: after };
    const jobs = await this.orm.em.fork().find(Job, where, { orderBy: { id: 'desc' }, limit: limit + 1 });
    const page = jobs.slice(0, limit);
    return { data: page.map(jobView), next_cursor: jobs.length > limit ? encodeCursor(page[page.length - 1].id) : null };
  }

  async get(principal: Principal, id: string): Promise<JobApi> {
    return jobView(await this.find(principal, id));
  }

  async update(principal: Principal, id: string, input: JobInput): Promise<JobApi> {
    return this.change(principal, id, async (job, now) => {
      const problems: Problem[] = [];
      if (input.kind !== undefined && input.kind !== job.kind) problems.push({ field: 'kind', message: 'cannot be changed; create a new job' });
      if (input.state !== undefined) problems.push({ field: 'state', message: 'cannot be patched; use the pause and resume endpoints' });
      // request and retry_policy merge key by key (JSON merge patch); other fields, steps included,
      // replace. The merged definition is validated whole, so a new step list is checked like on create.
      const merged: JobInput = {
        name: input.name ?? job.name,
        request: input.request === undefined ? (job.request ?? undefined) : { ...(job.request ?? {}), ...input.request },
        retry_policy: input.retry_policy === undefined ? job.retryPolicy : { ...job.retryPolicy, ...input.retry_policy },
        max_concurrent_executions: input.max_concurrent_executions ?? job.maxConcurrentExecutions,
        on_success_url: input.on_success_url === undefined ? job.onSuccessUrl : input.on_success_url,
        on_failure_url: input.on_failure_url === undefined ? job.onFailureUrl : input.on_failure_url,
        schedule: input.schedule,
        steps: input.steps === undefined ? job.steps : input.steps,
        response_output_template: input.response_output_template === undefined ? job.responseOutputTemplate : input.response_output_template,
        max_workflow_duration_seconds: input.max_workflow_duration_seconds === undefined ? job.maxWorkflowDurationSeconds : input.max_workflow_duration_seconds,
      };
      const definition = this.definitionOf(job.kind, merged, problems, now, input.schedule !== undefined);
      // Everything is checked before anything changes: a refused PATCH leaves the job, and the
      // run armed for its next slot, exactly as they were.
      if (problems.length > 0) throw ApiError.validation(problems);
      const armed = this.armedAhead(job, now);
      Object.assign(job, definition, { name: merged.name, updatedAt: now });
      // A new schedule takes effect from now for the next slot; otherwise the slot whose run was
      // armed with the old definition is armed again with the new one.
      const rearm = input.schedule === undefined;
      if (!rearm && job.state === 'active') job.nextRunAt = nextSlot(job, now);
      return armed ? () => this.replaceArmed(job, armed, 'job_changed', now, rearm) : undefined;
    });
  }

  async remove(principal: Principal, id: string): Promise<void> {
    await this.change(principal, id, async (job, now) => {
      const armed = this.armedAhead(job, now);
      job.deletedAt = now;
      job.nextRunAt = null;
      return armed ? () => this.replaceArmed(job, armed, 'job_deleted', now, false) : undefined;
    });
  }

  async pause(principal: Principal, id: string): Promise<JobApi> {
    return this.change(principal, id, async (job, now) => {
      if (job.state === 'completed') throw ApiError.conflict('A completed job cannot be paused');
      const armed = this.armedAhead(job, now);
      job.state = 'paused';
      job.nextRunAt = null;
      job.updatedAt = now;
      return armed ? () => this.replaceArmed(job, armed, 'job_paused', now, false) : undefined;
    });
  }

  /**
   * Applies `apply` to the job with its row locked, so the scheduler (which skips locked rows)
   * cannot arm a run between reading and writing it. `apply` checks and changes the row only; the
   * effects outside the database it returns run after the row's writes are flushed, still inside
   * the lock's transaction: a request that fails in the database has then sent nothing, and one
   * whose effect fails rolls the row back.
   */
  private async change(
    principal: Principal,
    id: string,
    apply: (job: Job, now: Date) => Promise<(() => Promise<void>) | undefined>,
  ): Promise<JobApi> {
    return this.orm.em.fork().transactional(async (tx) => {
      const job = await tx.findOne(Job, { id, workspaceId: principal.workspaceId, deletedAt: null }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!job) throw ApiError.notFound('Job');
      const effects = await apply(job, new Date());
      await tx.flush();
      if (effects) {
        await effects();
        await tx.flush();
      }
      return jobView(job);
    });
  }

  /** The run the scheduler armed ahead of the job's next slot (see JobScheduler), while that slot is still ahead. */
  private armedAhead(job: Job, now: Date): ArmedRun | null {
    const { armedExecutionId: executionId, armedFor: slot } = job;
    if (!executionId || !slot || slot.getTime() <= now.getTime()) return null;
    return { executionId, slot };
  }

  /**
   * Takes back the run armed for `armed.slot` and, with `rearm`, arms that slot again with the job
   * as it now is (a new execution id for the new revision, the same `scheduled_for`), recording
   * the new run on the row. Runs after the row's other writes are flushed, inside the row lock.
   *
   * The new run is queued before the old one is withdrawn: if the withdrawal fails, the new run
   * is taken back and the error rolls the row back, so the old run stays armed and the slot runs
   * once, as it was. The one window left is the commit itself failing after both appends: the
   * slot then runs once, with the new definition. Either way a failing request never makes a slot
   * silently not run (a PATCH that failed in the database used to withdraw the run and lose it).
   */
  private async replaceArmed(job: Job, armed: ArmedRun, reason: WithdrawalReason, now: Date, rearm: boolean): Promise<void> {
    job.armedExecutionId = null;
    job.armedFor = null;
    const replacement = rearm && job.state === 'active' ? await this.arm(job, armed.slot, now) : null;
    let withdrawn: boolean;
    try {
      withdrawn = await this.withdraw(job, armed.executionId, reason, now);
    } catch (error) {
      if (replacement) await this.withdraw(job, replacement.executionId, reason, now).catch(() => undefined);
      throw error;
    }
    if (!withdrawn) {
      // The old run had already begun: the slot is its own, as before the change.
      if (replacement) await this.withdraw(job, replacement.executionId, reason, now);
      Object.assign(job, { armedExecutionId: armed.executionId, armedFor: armed.slot });
      return;
    }
    if (replacement) {
      job.armedExecutionId = replacement.executionId;
      job.armedFor = armed.slot;
      job.launchedAt = now;
      job.nextRunAt = job.schedule ? nextRunAt(job.schedule as unknown as NormalizedSchedule, { anchor: job.createdAt, after: armed.slot }) : null;
    }
  }

  /** Queues the run of `slot` for the job as it now is, held by the stream until the slot (as JobScheduler arms it). */
  private async arm(job: Job, slot: Date, now: Date): Promise<ArmedRun> {
    const executionId = executionIdForSlot(job.id, slot, job.updatedAt);
    await launchExecution(
      this.executions,
      { executionId, workspaceId: job.workspaceId, jobId: job.id, trigger: 'schedule', scheduledFor: slot.toISOString(), job: snapshotOf(job) },
      () => now,
    );
    return { executionId, slot };
  }

  /** Appends the withdrawal of an armed run; false when it was no longer withdrawable (it had started, or ended). */
  private async withdraw(job: Job, executionId: string, reason: WithdrawalReason, now: Date): Promise<boolean> {
    const result = await this.executions.execute(
      { executionId, jobId: job.id, workspaceId: job.workspaceId },
      () => ({ type: 'WithdrawExecution', reason, now: now.toISOString() }),
      { now: () => now },
    );
    return !('ignored' in result);
  }

  /** Activates a paused or draft job. A one_time job that never ran (a draft) runs now: activation is its "creation". */
  async resume(principal: Principal, id: string): Promise<JobApi> {
    const em = this.orm.em.fork();
    const job = await this.find(principal, id, em);
    if (job.state === 'completed') throw ApiError.conflict('A completed job cannot be resumed; use run-now');
    const now = new Date();
    job.state = 'active';
    job.updatedAt = now;
    // Resume recomputes from now: slots missed while paused are not back-filled.
    job.nextRunAt = nextSlot(job, now);
    if (job.kind === 'scheduled' && job.nextRunAt === null && !job.launchedAt) {
      throw ApiError.conflict('schedule.run_at has passed; set a new run_at or use run-now');
    }
    await em.transactional(async (tx) => {
      tx.persist(job);
      await tx.flush();
      if (job.kind === 'one_time') await this.launchOnce(tx, job, now);
    });
    return jobView(job);
  }

  /**
   * Queues the job's own run unless it was queued before. The row is locked and stamped in the
   * caller's transaction, and the execution's first event is stored before that commits.
   */
  private async launchOnce(tx: EntityManager, job: Job, now: Date): Promise<void> {
    const claimed = await tx.nativeUpdate(Job, { id: job.id, launchedAt: null }, { launchedAt: now });
    if (claimed === 0) return;
    job.launchedAt = now;
    await this.launch(job, 'schedule', now);
  }

  async runNow(principal: Principal, id: string): Promise<ExecutionApi> {
    const job = await this.find(principal, id);
    return this.launch(job, 'manual', new Date());
  }

  async find(principal: Principal, id: string, em = this.orm.em.fork()): Promise<Job> {
    const job = await em.findOne(Job, { id, workspaceId: principal.workspaceId, deletedAt: null });
    if (!job) throw ApiError.notFound('Job');
    return job;
  }

  private async launch(job: Job, trigger: ExecutionTrigger, now: Date): Promise<ExecutionApi> {
    const queued = await launchExecution(
      this.executions,
      {
        workspaceId: job.workspaceId,
        jobId: job.id,
        trigger,
        job: snapshotOf(job),
      },
      () => now,
    );
    return toApi(project(null, queued)!);
  }

  /** `withSchedule`: validate `input.schedule` (on create, and on a PATCH that sends one). */
  private definitionOf(kind: JobKind, input: JobInput, problems: Problem[], now: Date, withSchedule: boolean): Partial<Job> {
    const fields = normalizeJobFields(kind, input, { now, withSchedule });
    problems.push(...fields.problems);
    if (!fields.value) return {};
    const { schedule, ...rest } = fields.value;
    return { ...rest, ...(schedule !== undefined ? { schedule: schedule as Record<string, unknown> | null } : {}) };
  }
}

/** The job's next slot strictly after `after`, or null (no schedule, or a run_at already past). */
function nextSlot(job: Job, after: Date): Date | null {
  if (!job.schedule) return null;
  return nextRunAt(job.schedule as unknown as NormalizedSchedule, { anchor: job.createdAt, after });
}
