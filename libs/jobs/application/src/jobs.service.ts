import { Injectable, Optional } from '@nestjs/common';
import { type EntityManager, LockMode, type MikroORM } from '@mikro-orm/postgresql';
import type { Principal } from '@trigrun/accounts';
import type { ExecutionTrigger, JobKind, WithdrawalReason } from '@trigrun/execution-contracts';
import { ExecutionStore, launchExecution } from '@trigrun/execution-store';
import { JOB_KINDS, type JobFieldsInput, type Problem, SUPPORTED_KINDS, normalizeJobFields, snapshotOf } from '@trigrun/job-domain';
import { isMessagingUp, type Messaging } from '@trigrun/messaging';
import { InjectMessaging, InjectOrm, OUTAGE_RETRY_AFTER_SECONDS } from '@trigrun/nest';
import { type NormalizedSchedule, nextRunAt } from '@trigrun/scheduling-domain';
import { DomainError, decodeCursor, encodeCursor, executionIdForSlot, newId } from '@trigrun/util';
import { Job, type JobApi, type JobState, jobView } from './job.entity';
import { type JobIntent, JobOutbox } from './job-outbox';
import { type QueuedExecutionAnswer, queuedExecutionAnswer } from './queued-execution';

/**
 * A create or change of a job, as the jobs use cases take it: camelCase at the top level, whatever
 * the caller speaks (the HTTP edge maps its snake_case DTO, jobs.controller.ts). The nested request,
 * retry policy and step specs keep their JSON contract shape, and so do the field names in a
 * refusal's details (`retry_policy.max_attempts`): they are what a client sent. A field left out
 * (undefined) is not changed by an update; null clears it where that is allowed.
 */
export interface JobCommand {
  name?: string;
  kind?: string;
  state?: string;
  schedule?: unknown;
  request?: object;
  steps?: unknown;
  retryPolicy?: object;
  maxConcurrentExecutions?: number;
  maxWorkflowDurationSeconds?: number | null;
  onSuccessUrl?: string | null;
  onFailureUrl?: string | null;
  responseOutputTemplate?: unknown;
}

interface ArmedRun {
  readonly executionId: string;
  readonly slot: Date;
}

export interface JobFilters {
  readonly state?: string;
  readonly kind?: string;
}

/** How long a change waits for a job row the scheduler holds while it fires the job (then 503: try again). */
const ROW_LOCK_TIMEOUT_MS = 2_000;

/**
 * The jobs use cases. No database transaction here ever waits for the broker
 * (docs/failure-behaviour.md): what a request must tell NATS is written to the outbox in the
 * request's transaction and carried out after the commit (JobOutbox). A request that needs the
 * broker while the connection knows it is away is refused at once (503), before anything changes.
 */
@Injectable()
export class JobsService {
  private readonly outbox: JobOutbox;

  constructor(
    @InjectOrm() private readonly orm: MikroORM,
    private readonly executions: ExecutionStore,
    @Optional() outbox?: JobOutbox,
    @Optional() @InjectMessaging() private readonly messaging?: Messaging,
  ) {
    this.outbox = outbox ?? new JobOutbox(orm, executions);
  }

  /** Refuses, before anything changes, a request that needs the broker while the connection knows it is away. */
  private requireBroker(): void {
    if (this.messaging && !isMessagingUp(this.messaging)) {
      throw DomainError.unavailable('The message broker is unavailable right now; nothing was changed, try again shortly', OUTAGE_RETRY_AFTER_SECONDS, {
        dependency: 'nats',
        retry_after_seconds: OUTAGE_RETRY_AFTER_SECONDS,
      });
    }
  }

  /**
   * Carries out an outbox entry right after its commit, so a healthy broker sees the event within
   * the request. When it cannot (the broker went away meanwhile) the request still succeeds: its
   * change is committed and the entry is durable, and the relay carries it out once NATS is back.
   */
  private async settle(entry: string | null): Promise<void> {
    if (entry) await this.outbox.dispatch(entry).catch(() => false);
  }

  async create(principal: Principal, input: JobCommand): Promise<JobApi> {
    const problems: Problem[] = [];
    const kind = input.kind as JobKind;
    if (!JOB_KINDS.includes(kind)) problems.push({ field: 'kind', message: `must be one of ${JOB_KINDS.join(', ')}` });
    else if (!SUPPORTED_KINDS.includes(kind)) problems.push({ field: 'kind', message: `"${kind}" jobs are not available in this version yet` });
    const state = (input.state ?? 'active') as JobState;
    if (state !== 'active' && state !== 'draft') problems.push({ field: 'state', message: 'must be active or draft when creating a job' });
    const now = new Date();
    // A kind this build does not run has no definition rules to check yet.
    const definition = SUPPORTED_KINDS.includes(kind) ? this.definitionOf(kind, input, problems, now, true) : {};
    if (problems.length > 0) throw DomainError.validation([...problems]);

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
    const launches = job.kind === 'one_time' && job.state === 'active';
    if (launches) this.requireBroker();
    // The job row and the entry that queues its run commit together (the outbox); the run is
    // queued after the commit, by this request or, if the broker went away meanwhile, the relay.
    const entry = await em.transactional(async (tx) => {
      tx.persist(job);
      await tx.flush();
      return launches ? this.launchOnce(tx, job, now) : null;
    });
    await this.settle(entry);
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

  async update(principal: Principal, id: string, input: JobCommand): Promise<JobApi> {
    return this.change(principal, id, async (job, now) => {
      const problems: Problem[] = [];
      if (input.kind !== undefined && input.kind !== job.kind) problems.push({ field: 'kind', message: 'cannot be changed; create a new job' });
      if (input.state !== undefined) problems.push({ field: 'state', message: 'cannot be patched; use the pause and resume endpoints' });
      // request and retry_policy merge key by key (JSON merge patch); other fields, steps included,
      // replace. The merged definition is validated whole, so a new step list is checked like on create.
      const merged: JobCommand = {
        name: input.name ?? job.name,
        request: input.request === undefined ? (job.request ?? undefined) : { ...(job.request ?? {}), ...input.request },
        retryPolicy: input.retryPolicy === undefined ? job.retryPolicy : { ...job.retryPolicy, ...input.retryPolicy },
        maxConcurrentExecutions: input.maxConcurrentExecutions ?? job.maxConcurrentExecutions,
        onSuccessUrl: input.onSuccessUrl === undefined ? job.onSuccessUrl : input.onSuccessUrl,
        onFailureUrl: input.onFailureUrl === undefined ? job.onFailureUrl : input.onFailureUrl,
        schedule: input.schedule,
        steps: input.steps === undefined ? job.steps : input.steps,
        responseOutputTemplate: input.responseOutputTemplate === undefined ? job.responseOutputTemplate : input.responseOutputTemplate,
        maxWorkflowDurationSeconds: input.maxWorkflowDurationSeconds === undefined ? job.maxWorkflowDurationSeconds : input.maxWorkflowDurationSeconds,
      };
      const definition = this.definitionOf(job.kind, merged, problems, now, input.schedule !== undefined);
      // Everything is checked before anything changes: a refused PATCH leaves the job, and the
      // run armed for its next slot, exactly as they were.
      if (problems.length > 0) throw DomainError.validation(problems);
      const armed = this.armedAhead(job, now);
      Object.assign(job, definition, { name: merged.name, updatedAt: now });
      // A new schedule takes effect from now for the next slot; otherwise the slot whose run was
      // armed with the old definition is armed again with the new one.
      const rearm = input.schedule === undefined;
      if (!rearm && job.state === 'active') job.nextRunAt = nextSlot(job, now);
      return armed ? this.replaceArmed(job, armed, 'job_changed', now, rearm) : null;
    });
  }

  async remove(principal: Principal, id: string): Promise<void> {
    await this.change(principal, id, async (job, now) => {
      const armed = this.armedAhead(job, now);
      job.deletedAt = now;
      job.nextRunAt = null;
      return armed ? this.replaceArmed(job, armed, 'job_deleted', now, false) : null;
    });
  }

  async pause(principal: Principal, id: string): Promise<JobApi> {
    return this.change(principal, id, async (job, now) => {
      if (job.state === 'completed') throw DomainError.conflict('A completed job cannot be paused');
      const armed = this.armedAhead(job, now);
      job.state = 'paused';
      job.nextRunAt = null;
      job.updatedAt = now;
      return armed ? this.replaceArmed(job, armed, 'job_paused', now, false) : null;
    });
  }

  /**
   * Applies `apply` to the job with its row locked, so the scheduler (which skips locked rows)
   * cannot arm a run between reading and writing it. `apply` checks and changes the row only, and
   * returns what the broker must be told (an outbox intent), written in the same transaction and
   * carried out after the commit: a request that fails in the database has sent nothing and
   * changed nothing, and no transaction waits for the broker.
   */
  private async change(principal: Principal, id: string, apply: (job: Job, now: Date) => Promise<JobIntent | null>): Promise<JobApi> {
    const { view, entry } = await this.orm.em
      .fork()
      .transactional(async (tx) => {
        // The scheduler holds a row it fires for as long as its publish takes: wait a bounded time.
        await tx.execute(`set local lock_timeout = ${ROW_LOCK_TIMEOUT_MS}`);
        const job = await tx.findOne(Job, { id, workspaceId: principal.workspaceId, deletedAt: null }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!job) throw DomainError.notFound('Job');
        const now = new Date();
        const intent = await apply(job, now);
        await tx.flush();
        return { view: jobView(job), entry: intent ? await this.outbox.add(tx, job.id, intent, now) : null };
      })
      .catch((error: unknown) => {
        if ((error as { code?: unknown }).code === '55P03') {
          throw DomainError.unavailable('The job is being fired by the scheduler right now; nothing was changed, try again', 1, { retry_after_seconds: 1 });
        }
        throw error;
      });
    await this.settle(entry);
    return view;
  }

  /** The run the scheduler armed ahead of the job's next slot (see JobScheduler), while that slot is still ahead. */
  private armedAhead(job: Job, now: Date): ArmedRun | null {
    const { armedExecutionId: executionId, armedFor: slot } = job;
    if (!executionId || !slot || slot.getTime() <= now.getTime()) return null;
    return { executionId, slot };
  }

  /**
   * Takes back the run armed for `armed.slot` and, with `rearm`, arms that slot again with the job
   * as it now is (a new execution id for the new revision, the same `scheduled_for`). Changes the
   * row as if both succeed and returns the intent that makes it so; the outbox carries it out after
   * the commit, withdrawal first (see JobIntent): if the old run had already begun, the slot stays
   * its own, nothing is queued and the row names it again. So a slot runs once — with the new
   * definition if the withdrawal took, with the old one if the run had begun — and a failing
   * request changes nothing and sends nothing.
   */
  private replaceArmed(job: Job, armed: ArmedRun, reason: WithdrawalReason, now: Date, rearm: boolean): JobIntent {
    this.requireBroker();
    const replacement = rearm && job.state === 'active' ? { executionId: executionIdForSlot(job.id, armed.slot, job.updatedAt), job: snapshotOf(job) } : null;
    if (replacement) {
      job.armedExecutionId = replacement.executionId;
      job.armedFor = armed.slot;
      job.launchedAt = now;
      job.nextRunAt = job.schedule ? nextRunAt(job.schedule as unknown as NormalizedSchedule, { anchor: job.createdAt, after: armed.slot }) : null;
    } else {
      job.armedExecutionId = null;
      job.armedFor = null;
    }
    return {
      type: 'replace_armed',
      workspaceId: job.workspaceId,
      jobId: job.id,
      armed: { executionId: armed.executionId, slot: armed.slot.toISOString() },
      reason,
      replacement,
      now: now.toISOString(),
    };
  }

  /** Activates a paused or draft job. A one_time job that never ran (a draft) runs now: activation is its "creation". */
  async resume(principal: Principal, id: string): Promise<JobApi> {
    const em = this.orm.em.fork();
    const job = await this.find(principal, id, em);
    if (job.state === 'completed') throw DomainError.conflict('A completed job cannot be resumed; use run-now');
    const now = new Date();
    job.state = 'active';
    job.updatedAt = now;
    // Resume recomputes from now: slots missed while paused are not back-filled.
    job.nextRunAt = nextSlot(job, now);
    if (job.kind === 'scheduled' && job.nextRunAt === null && !job.launchedAt) {
      throw DomainError.conflict('schedule.run_at has passed; set a new run_at or use run-now');
    }
    if (job.kind === 'one_time' && !job.launchedAt) this.requireBroker();
    const entry = await em.transactional(async (tx) => {
      tx.persist(job);
      await tx.flush();
      return job.kind === 'one_time' ? this.launchOnce(tx, job, now) : null;
    });
    await this.settle(entry);
    return jobView(job);
  }

  /**
   * Queues the job's own run unless it was queued before: the row is stamped and the outbox entry
   * that queues the run written in the caller's transaction. Returns the entry, or null.
   */
  private async launchOnce(tx: EntityManager, job: Job, now: Date): Promise<string | null> {
    const claimed = await tx.nativeUpdate(Job, { id: job.id, launchedAt: null }, { launchedAt: now });
    if (claimed === 0) return null;
    job.launchedAt = now;
    const intent: JobIntent = { type: 'queue', executionId: newId('exec', now.getTime()), workspaceId: job.workspaceId, jobId: job.id, job: snapshotOf(job), now: now.toISOString() };
    return this.outbox.add(tx, job.id, intent, now);
  }

  /** No transaction is open here: the read is done before the publish, which waits a bounded time. */
  async runNow(principal: Principal, id: string): Promise<QueuedExecutionAnswer> {
    const job = await this.find(principal, id);
    this.requireBroker();
    return this.launch(job, 'manual', new Date());
  }

  async find(principal: Principal, id: string, em = this.orm.em.fork()): Promise<Job> {
    const job = await em.findOne(Job, { id, workspaceId: principal.workspaceId, deletedAt: null });
    if (!job) throw DomainError.notFound('Job');
    return job;
  }

  private async launch(job: Job, trigger: ExecutionTrigger, now: Date): Promise<QueuedExecutionAnswer> {
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
    return queuedExecutionAnswer(queued);
  }

  /** `withSchedule`: validate `input.schedule` (on create, and on a PATCH that sends one). */
  private definitionOf(kind: JobKind, input: JobCommand, problems: Problem[], now: Date, withSchedule: boolean): Partial<Job> {
    const fields = normalizeJobFields(kind, fieldsInputOf(input), { now, withSchedule });
    problems.push(...fields.problems);
    if (!fields.value) return {};
    const { schedule, ...rest } = fields.value;
    return { ...rest, ...(schedule !== undefined ? { schedule: schedule as Record<string, unknown> | null } : {}) };
  }
}

/**
 * The definition fields in the shape the job rules check and name them in: the JSON contract's
 * (docs/input-validation.md), so a refusal says `retry_policy.max_attempts` whoever called.
 */
function fieldsInputOf(command: JobCommand): JobFieldsInput {
  return {
    schedule: command.schedule,
    request: command.request,
    steps: command.steps,
    retry_policy: command.retryPolicy,
    max_concurrent_executions: command.maxConcurrentExecutions,
    max_workflow_duration_seconds: command.maxWorkflowDurationSeconds,
    on_success_url: command.onSuccessUrl,
    on_failure_url: command.onFailureUrl,
    response_output_template: command.responseOutputTemplate,
  };
}

/** The job's next slot strictly after `after`, or null (no schedule, or a run_at already past). */
function nextSlot(job: Job, after: Date): Date | null {
  if (!job.schedule) return null;
  return nextRunAt(job.schedule as unknown as NormalizedSchedule, { anchor: job.createdAt, after });
}
