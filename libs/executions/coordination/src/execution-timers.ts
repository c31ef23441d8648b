import type { MikroORM } from '@mikro-orm/postgresql';
import { mapSettled } from './map-settled';

/** A due timer as stored: what the firer needs to wake the execution. */
export interface TimerRow {
  readonly execution_id: string;
  readonly job_id: string;
  readonly workspace_id: string;
  /** The deadline the timer was scheduled for (not the time it fires). */
  readonly due_at: Date;
}

export interface TimerSchedule {
  readonly executionId: string;
  readonly jobId: string;
  readonly workspaceId: string;
  readonly dueAt: Date;
}

export interface TimersLogger {
  warn(message: string, meta?: object): void;
}

export interface ExecutionTimersOptions {
  readonly logger?: TimersLogger;
  /** `fire` calls in flight at once within one `fireDue`. */
  readonly concurrency?: number;
  /**
   * How long a claimed row is withheld from other firers while its `fire` runs. A firer that
   * crashes mid-batch leaves its rows to be fired again this long after the claim.
   */
  readonly leaseMs?: number;
}

const DEFAULT_CONCURRENCY = 32;
const DEFAULT_LEASE_MS = 60_000;

/**
 * One durable timer per execution (the earliest deadline it waits for), fired by the scheduler.
 *
 * Firing is at-least-once: a row is deleted only after its `fire` resolved, and a firer that
 * crashes leaves it to be fired again. The decider's `Wake` makes that harmless (a wake with
 * nothing due is ignored), so the effect is exactly-once.
 *
 * A claim is a short statement, not a transaction held open across the `fire` calls: it locks
 * the due rows with `FOR UPDATE SKIP LOCKED` and moves their `due_at` to a lease deadline, so
 * other replicas skip them while they fire, yet `schedule` and `cancel` (called by the engine,
 * possibly from inside a `fire`) never wait for a batch. A row is then deleted, or given back,
 * only if its `due_at` still holds the lease: any `schedule` or `cancel` in the meantime wins.
 */
export class ExecutionTimers {
  private readonly logger: TimersLogger;
  private readonly concurrency: number;
  private readonly leaseMs: number;

  constructor(
    private readonly orm: MikroORM,
    opts: ExecutionTimersOptions = {},
  ) {
    this.logger = opts.logger ?? { warn: () => undefined };
    this.concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** Sets the execution's timer; a later call replaces its `due_at`. */
  async schedule(t: TimerSchedule): Promise<void> {
    await this.orm.em.fork().execute(
      `insert into execution_timers (execution_id, job_id, workspace_id, due_at)
       values (?, ?, ?, ?)
       on conflict (execution_id) do update
         set due_at = excluded.due_at, job_id = excluded.job_id, workspace_id = excluded.workspace_id`,
      [t.executionId, t.jobId, t.workspaceId, t.dueAt],
    );
  }

  /** Removes the execution's timer, if any. */
  async cancel(executionId: string): Promise<void> {
    await this.orm.em.fork().execute('delete from execution_timers where execution_id = ?', [executionId]);
  }

  /**
   * Claims up to `limit` timers due at `now`, calls `fire` for each (at most `concurrency` at a
   * time) and deletes those whose `fire` resolved. A `fire` that throws is logged and its row is
   * due again at once, for the next call. Returns how many fired.
   */
  async fireDue(now: Date, limit: number, fire: (t: TimerRow) => Promise<void>): Promise<number> {
    if (limit <= 0) return 0;
    const lease = leaseMark(new Date(now.getTime() + this.leaseMs));
    const em = this.orm.em.fork();
    const claimed = await em.execute<ClaimedRow[]>(
      `update execution_timers t set due_at = ?::timestamptz
         from (select execution_id, due_at from execution_timers
                where due_at <= ?
                order by due_at
                limit ?
                for update skip locked) c
        where t.execution_id = c.execution_id
        returning t.execution_id, t.job_id, t.workspace_id, c.due_at`,
      [lease, now, limit],
    );
    if (claimed.length === 0) return 0;
    const rows: TimerRow[] = claimed.map((r) => ({ execution_id: r.execution_id, job_id: r.job_id, workspace_id: r.workspace_id, due_at: new Date(r.due_at) }));

    const outcomes = await mapSettled(rows, this.concurrency, fire);
    const fired: TimerRow[] = [];
    const failed: TimerRow[] = [];
    for (const [i, row] of rows.entries()) {
      const outcome = outcomes[i]!;
      if (outcome.status === 'fulfilled') {
        fired.push(row);
      } else {
        failed.push(row);
        this.logger.warn('timer fire failed; it stays due', { execution_id: row.execution_id, error: messageOf(outcome.reason) });
      }
    }
    // Two statements, not one transaction: a failure to give rows back must not undo deletions.
    if (fired.length > 0) {
      await em.execute(`delete from execution_timers where due_at = ?::timestamptz and execution_id in (${fired.map(() => '?').join(', ')})`, [
        lease,
        ...fired.map((r) => r.execution_id),
      ]);
    }
    if (failed.length > 0) {
      await em.execute(
        `update execution_timers t set due_at = v.due
           from (values ${failed.map(() => '(?, ?::timestamptz)').join(', ')}) as v(id, due)
          where t.execution_id = v.id and t.due_at = ?::timestamptz`,
        [...failed.flatMap((r) => [r.execution_id, r.due_at.toISOString()]), lease],
      );
    }
    return fired.length;
  }
}

const messageOf = (reason: unknown): string => (reason instanceof Error ? reason.message : String(reason));

interface ClaimedRow {
  execution_id: string;
  job_id: string;
  workspace_id: string;
  due_at: Date | string;
}

/**
 * The lease deadline with 999 microseconds added. `schedule` takes a `Date` (millisecond
 * precision), so no scheduled `due_at` can ever equal a lease: "still holds the lease" cannot be
 * mistaken for "rescheduled to the same instant".
 */
const leaseMark = (until: Date): string => until.toISOString().replace('Z', '999Z');
