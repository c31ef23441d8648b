import type { MikroORM } from '@mikro-orm/postgresql';
import type { JobKind, JobSnapshot } from '@trigrun/execution-contracts';
import type { ExecutionStore } from '@trigrun/execution-store';
import { snapshotOf } from '@trigrun/job-domain';
import { type DueJob, type JobIntent, JobOutbox, claimDueJobs, recordRuns } from '@trigrun/jobs';
import { nextRunAt } from '@trigrun/scheduling-domain';
import { executionIdForSlot } from './slot-id';

/**
 * Kinds whose runs come from `schedule`. one_time is launched at creation and webhook_trigger by
 * its trigger; a workflow without a schedule has no next_run_at, so it is never claimed.
 */
export const SCHEDULED_KINDS: readonly JobKind[] = ['recurring', 'cron', 'scheduled', 'workflow'];

export interface SchedulerOptions {
  readonly batchSize: number;
  /** Slots due within this many ms are armed now (see JobScheduler); 0 fires each slot once due. */
  readonly lookaheadMs?: number;
  readonly now: () => Date;
  readonly logger: { warn(message: string, meta?: object): void; debug(message: string, meta?: object): void };
}

/**
 * Fires due schedule slots, each exactly once, however many scheduler replicas run.
 *
 * - A tick claims due jobs with `FOR UPDATE SKIP LOCKED`: replicas split the work, never share a job.
 * - Within the claim it moves `next_run_at` on and writes the slot's run (a deterministic id, see
 *   executionIdForSlot) to the jobs outbox; both commit together, and the run is queued after the
 *   commit — no row stays locked while NATS answers (docs/failure-behaviour.md). A run the broker
 *   did not take is queued by the outbox relay once it is back; one carried out twice is dropped
 *   by the event store (same msg id).
 * - Lookahead: a slot is claimed up to `lookaheadMs` before it is due and its run *armed*: queued
 *   with `scheduled_for` ahead, held by the stream (not by any process) until the slot, when the
 *   step-runner starts it. The work of queueing is done before the instant, not at it. The armed
 *   run is recorded on the row (`armed_execution_id`, `armed_for`) so that pausing, deleting or
 *   changing the job before the slot withdraws it (JobsService, which arms the slot again itself
 *   for a changed job, through the same outbox); a job has at most one armed run.
 * - Catch-up policy: a job whose `next_run_at` is in the past (the scheduler was down) fires once,
 *   for its earliest missed slot, then continues from the first slot after now. Missed slots in
 *   between are skipped, never stampeded.
 * - Nothing is held in memory between ticks: idle jobs cost a row, not a timer.
 */
export class JobScheduler {
  private readonly outbox: JobOutbox;

  constructor(
    private readonly orm: MikroORM,
    store: ExecutionStore,
    private readonly opts: SchedulerOptions,
    outbox?: JobOutbox,
  ) {
    this.outbox = outbox ?? new JobOutbox(orm, store);
  }

  /** Fires everything due now, in batches; returns how many slots fired. */
  async tick(): Promise<number> {
    let fired = 0;
    for (;;) {
      const batch = await this.fireBatch();
      fired += batch;
      if (batch < this.opts.batchSize) return fired;
    }
  }

  private async fireBatch(): Promise<number> {
    const now = this.opts.now();
    const horizon = new Date(now.getTime() + (this.opts.lookaheadMs ?? 0));
    const { claimed, entries } = await this.orm.em.fork().transactional(async (em) => {
      const due = await claimDueJobs(em, { horizon, now, kinds: SCHEDULED_KINDS, limit: this.opts.batchSize });
      if (due.length === 0) return { claimed: 0, entries: [] };
      const plans = due.map((job) => this.plan(job, now));
      const entries = await this.outbox.addMany(
        em,
        plans.flatMap((p, i) => (p.intent ? [{ jobId: due[i].id, intent: p.intent }] : [])),
        now,
      );
      await recordRuns(
        em,
        due.map((job, i) => ({ jobId: job.id, next: plans[i].next, armed: plans[i].armed })),
        now,
      );
      return { claimed: due.length, entries };
    });
    // After the commit, with no row locked and no transaction open: the runs are queued now, and
    // whatever the broker does not take is carried out by the outbox relay once it is back.
    await this.outbox.dispatchMany(entries).catch(() => 0);
    return claimed;
  }

  /** The slot's run as an outbox entry; the job's next slot; and the run when it is armed ahead of its slot. */
  private plan(job: DueJob, now: Date): { intent: JobIntent | null; next: Date | null; armed: { executionId: string; slot: Date } | null } {
    const slot = new Date(job.next_run_at);
    const executionId = executionIdForSlot(job.id, slot, new Date(job.updated_at));
    const snapshot = this.snapshot(job);
    // One unusable row must not stall the claim for every other job: skip its slot, loudly.
    if (snapshot === null) this.opts.logger.warn('job has no usable definition; slot skipped', { job_id: job.id, kind: job.kind, slot: slot.toISOString() });
    const ahead = slot.getTime() > now.getTime();
    return {
      intent:
        snapshot === null
          ? null
          : { type: 'queue', executionId, workspaceId: job.workspace_id, jobId: job.id, job: snapshot, scheduledFor: slot.toISOString(), now: now.toISOString() },
      // From the later of the slot and now: at most one catch-up run, then back on schedule.
      next: nextRunAt(job.schedule, { anchor: new Date(job.created_at), after: ahead ? slot : now }),
      // A skipped slot (no usable definition) armed nothing.
      armed: snapshot !== null && ahead ? { executionId, slot } : null,
    };
  }

  /** Request kinds snapshot their request, workflows their steps and limits (snapshotOf); null if the row lacks them. */
  private snapshot(job: DueJob): JobSnapshot | null {
    try {
      return snapshotOf({
        name: job.name,
        kind: job.kind,
        request: job.request,
        steps: job.steps,
        retryPolicy: job.retry_policy,
        maxConcurrentExecutions: job.max_concurrent_executions,
        maxWorkflowDurationSeconds: job.max_workflow_duration_seconds,
        onSuccessUrl: job.on_success_url,
        onFailureUrl: job.on_failure_url,
        responseOutputTemplate: job.response_output_template,
      });
    } catch {
      return null;
    }
  }
}
