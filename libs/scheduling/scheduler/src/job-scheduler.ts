import { LockMode, type MikroORM } from '@mikro-orm/postgresql';
import type { JobKind } from '@trigrun/execution-contracts';
import { type ExecutionStore, launchExecution } from '@trigrun/execution-engine';
import { snapshotOf } from '@trigrun/job-domain';
import { Job } from '@trigrun/jobs';
import { ConcurrencyConflict } from '@trigrun/messaging';
import { type NormalizedSchedule, nextRunAt } from '@trigrun/scheduling-domain';
import { executionIdForSlot } from './slot-id';

export const SCHEDULED_KINDS: readonly JobKind[] = ['recurring', 'cron', 'scheduled'];

export interface SchedulerOptions {
  readonly batchSize: number;
  readonly now: () => Date;
  readonly logger: { warn(message: string, meta?: object): void; debug(message: string, meta?: object): void };
}

/**
 * Fires due schedule slots, each exactly once, however many scheduler replicas run.
 *
 * - A tick claims due jobs with `FOR UPDATE SKIP LOCKED`: replicas split the work, never share a job.
 * - Within the claim it queues the slot's execution (a deterministic id, see executionIdForSlot)
 *   and moves `next_run_at` on; both commit together. A crash between the publish and the commit
 *   re-fires the slot, and the event store drops the second ExecutionQueued.
 * - Catch-up policy: a job whose `next_run_at` is in the past (the scheduler was down) fires once,
 *   for its earliest missed slot, then continues from the first slot after now. Missed slots in
 *   between are skipped, never stampeded.
 * - Nothing is held in memory between ticks: idle jobs cost a row, not a timer.
 */
export class JobScheduler {
  constructor(
    private readonly orm: MikroORM,
    private readonly store: ExecutionStore,
    private readonly opts: SchedulerOptions,
  ) {}

  /** Fires everything due now, in batches; returns how many slots fired. */
  async tick(): Promise<number> {
    let fired = 0;
    for (;;) {
      const batch = await this.fireBatch();
      fired += batch;
      if (batch < this.opts.batchSize) return fired;
    }
  }

  private fireBatch(): Promise<number> {
    const now = this.opts.now();
    return this.orm.em.fork().transactional(async (tx) => {
      const due = await tx.find(
        Job,
        { state: 'active', deletedAt: null, kind: { $in: [...SCHEDULED_KINDS] }, nextRunAt: { $lte: now } },
        { orderBy: { nextRunAt: 'asc' }, limit: this.opts.batchSize, lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
      );
      await Promise.all(due.map((job) => this.fire(job, now)));
      await tx.flush();
      return due.length;
    });
  }

  private async fire(job: Job, now: Date): Promise<void> {
    const slot = job.nextRunAt!;
    const executionId = executionIdForSlot(job.id, slot);
    try {
      await launchExecution(
        this.store,
        {
          executionId,
          workspaceId: job.workspaceId,
          jobId: job.id,
          trigger: 'schedule',
          scheduledFor: slot.toISOString(),
          job: snapshotOf({ ...job, request: job.request!, retryPolicy: job.retryPolicy, onSuccessUrl: job.onSuccessUrl, onFailureUrl: job.onFailureUrl }),
        },
        () => now,
      );
    } catch (error) {
      if (!(error instanceof ConcurrencyConflict)) throw error;
      this.opts.logger.debug('slot was already fired', { job_id: job.id, slot: slot.toISOString() });
    }
    job.launchedAt = now;
    // From the later of the slot and now: at most one catch-up run, then back on schedule.
    const after = slot.getTime() > now.getTime() ? slot : now;
    job.nextRunAt = nextRunAt(job.schedule as unknown as NormalizedSchedule, { anchor: job.createdAt, after });
  }
}
