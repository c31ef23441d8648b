import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { JobSnapshot, WithdrawalReason } from '@trigrun/execution-contracts';
import { ExecutionStore, launchExecution } from '@trigrun/execution-store';
import { ConcurrencyConflict } from '@trigrun/messaging';
import { InjectOrm } from '@trigrun/nest';

/**
 * What a jobs request must still tell the broker once its transaction commits. Written in that
 * transaction (JobOutbox.add), so it exists exactly when the row change does; carried out after
 * the commit, with no transaction open and no connection held while NATS answers.
 *
 * - `queue`: the job's own run (a one_time job created or first activated). The execution id is
 *   chosen when the entry is written, so the append's msg id (`<execution_id>:1`) is the same on
 *   every attempt and JetStream keeps one ExecutionQueued however often it is carried out.
 * - `replace_armed`: the run armed for `armed.slot` is withdrawn and, when `replacement` is set,
 *   the slot is armed again with the job as it now is (the row already names the replacement).
 *   The withdrawal comes first and the replacement is queued only once it took: if the old run had
 *   begun (its slot came while the broker was away) the slot is its own and nothing is queued, so
 *   a slot never runs twice; a withdrawal never loses the slot, since the replacement is in this
 *   same durable entry and is retried until it is stored.
 */
export type JobIntent =
  | {
      readonly type: 'queue';
      readonly executionId: string;
      readonly workspaceId: string;
      readonly jobId: string;
      readonly job: JobSnapshot;
      /** A scheduled slot's run (JobScheduler): held by the stream until then. */
      readonly scheduledFor?: string | null;
      readonly now: string;
    }
  | {
      readonly type: 'replace_armed';
      readonly workspaceId: string;
      readonly jobId: string;
      readonly armed: { readonly executionId: string; readonly slot: string };
      readonly reason: WithdrawalReason;
      readonly replacement: { readonly executionId: string; readonly job: JobSnapshot } | null;
      readonly now: string;
    };

interface OutboxRow {
  id: string;
  job_id: string;
  intent: JobIntent;
}

/** How long a claim keeps an entry from other dispatchers: well past the bounded broker calls of one entry. */
const LEASE_MS = 30_000;
/** How soon an entry whose attempt failed (the broker away) is tried again. */
const RETRY_AFTER_FAILURE_MS = 1_000;

/**
 * The jobs API's transactional outbox (docs/failure-behaviour.md). Entries of one job are carried
 * out one at a time and in the order they were written (a job's later change must not overtake
 * an earlier one); entries of different jobs in parallel. A claim is a lease on the row
 * (`claimed_until`), taken and released in single statements: no lock is held while the broker
 * answers, and a dispatcher that dies mid-entry leaves it to the next after the lease.
 * Every step is idempotent (deterministic msg ids, the decider ignoring a second withdrawal,
 * conditional row fixes), so an entry carried out twice has the effect of once.
 */
@Injectable()
export class JobOutbox {
  private readonly logger = new Logger('job-outbox');

  constructor(
    @InjectOrm() private readonly orm: MikroORM,
    private readonly store: ExecutionStore,
  ) {}

  /** Writes `intent` in the caller's transaction; returns the entry's id for dispatch(). */
  async add(tx: EntityManager, jobId: string, intent: JobIntent, now: Date): Promise<string> {
    const [row] = await tx.execute<{ id: string }[]>('insert into job_outbox (job_id, intent, created_at) values (?, ?::jsonb, ?) returning id', [jobId, JSON.stringify(intent), now]);
    return String(row.id);
  }

  /** Writes several entries in the caller's transaction, in one statement; returns their ids in order. */
  async addMany(tx: EntityManager, entries: readonly { readonly jobId: string; readonly intent: JobIntent }[], now: Date): Promise<string[]> {
    if (entries.length === 0) return [];
    const rows = await tx.execute<{ id: string }[]>(
      `insert into job_outbox (job_id, intent, created_at) values ${entries.map(() => '(?, ?::jsonb, ?)').join(', ')} returning id`,
      entries.flatMap((e) => [e.jobId, JSON.stringify(e.intent), now]),
    );
    return rows.map((r) => String(r.id));
  }

  /**
   * Carries out entry `id` now, if no earlier entry of its job is still pending and nobody holds
   * it. False when it was left to the relay (its broker call failed, or it had to wait its turn).
   */
  async dispatch(id: string): Promise<boolean> {
    return (await this.dispatchMany([id])) === 1;
  }

  /** dispatch() for several entries at once (one claim, one removal); returns how many were done. */
  async dispatchMany(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    // (An array binding is spread into a list by knex, hence `in (?, …)` rather than `= any(?)`.)
    return this.carryOutAll(await this.claim(`o.id in (${ids.map(() => '?').join(', ')})`, [...ids], ids.length));
  }

  /** Carries out up to `limit` pending entries, the oldest of each job; returns how many were done. */
  async relay(limit = 256): Promise<number> {
    return this.carryOutAll(await this.claim('true', [], limit));
  }

  /** Entries still to be carried out (the relay's backlog: 0 when the broker has been reachable). */
  async pending(): Promise<number> {
    const [row] = await this.orm.em.fork().execute<{ n: string }[]>('select count(*) as n from job_outbox');
    return Number(row.n);
  }

  private async claim(where: string, params: unknown[], limit: number): Promise<OutboxRow[]> {
    return this.orm.em.fork().execute<OutboxRow[]>(
      `update job_outbox set claimed_until = now() + (? * interval '1 millisecond'), attempts = attempts + 1
        where id in (
          select o.id from job_outbox o
           where ${where} and (o.claimed_until is null or o.claimed_until < now())
             and not exists (select 1 from job_outbox e where e.job_id = o.job_id and e.id < o.id)
           order by o.id limit ? for update skip locked)
        returning id, job_id, intent`,
      [LEASE_MS, ...params, limit],
    );
  }

  /** Carries the rows out in parallel (they are of different jobs); the plain ones are removed in one statement. */
  private async carryOutAll(rows: readonly OutboxRow[]): Promise<number> {
    const plain: string[] = [];
    const failures: string[] = [];
    const results = await Promise.all(rows.map((row) => this.carryOut(row, plain, failures)));
    if (plain.length > 0) await this.orm.em.fork().execute(`delete from job_outbox where id in (${plain.map(() => '?').join(', ')})`, plain);
    // One line per round, not per entry: during an outage every entry fails the same way.
    if (failures.length > 0) this.logger.warn(`${failures.length} outbox entr${failures.length === 1 ? 'y' : 'ies'} not carried out yet (retried): ${failures[0]}`);
    return results.filter(Boolean).length;
  }

  /** Performs one entry; an entry with no row fix is put on `plain` for removal by the caller. */
  private async carryOut(row: OutboxRow, plain: string[], failures: string[]): Promise<boolean> {
    try {
      const fix = await this.perform(row.intent);
      if (!fix) {
        plain.push(row.id);
        return true;
      }
      await this.orm.em.fork().transactional(async (tx) => {
        await fix(tx);
        await tx.execute('delete from job_outbox where id = ?', [row.id]);
      });
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push(`entry ${row.id} of job ${row.job_id}: ${message}`);
      await this.orm.em
        .fork()
        .execute("update job_outbox set claimed_until = now() + (? * interval '1 millisecond'), last_error = ? where id = ?", [RETRY_AFTER_FAILURE_MS, message.slice(0, 500), row.id])
        .catch(() => undefined);
      return false;
    }
  }

  /** The broker side of an intent; returns the row fix to commit with the entry's removal, if any. */
  private async perform(intent: JobIntent): Promise<((tx: EntityManager) => Promise<void>) | null> {
    if (intent.type === 'queue') {
      await this.queue(intent.executionId, intent, intent.job, intent.scheduledFor ?? null, new Date(intent.now));
      return null;
    }
    const { armed, replacement } = intent;
    // The dispatcher's clock, not the request's: once the slot is due the run belongs to the slot,
    // however late the entry is carried out.
    const now = new Date();
    const result = await this.store.execute(
      { executionId: armed.executionId, jobId: intent.jobId, workspaceId: intent.workspaceId },
      () => ({ type: 'WithdrawExecution', reason: intent.reason, now: now.toISOString() }),
      { now: () => now },
    );
    // A second attempt of this entry finds the run withdrawn by the first.
    const withdrawn = !('ignored' in result) || result.loaded.state.status === 'withdrawn';
    if (withdrawn) {
      if (replacement) await this.queue(replacement.executionId, intent, replacement.job, armed.slot, now);
      return null;
    }
    // Never queued (an earlier entry found the slot taken and did not queue it): nothing to restore.
    if (result.loaded.state.status === 'initial') return null;
    // The old run had begun (or ended): the slot is its own, as before the change. The row names
    // it again unless a later change has moved it on since.
    return async (tx) => {
      await tx.execute('update jobs set armed_execution_id = ?, armed_for = ? where id = ? and armed_execution_id is not distinct from ?', [
        armed.executionId,
        new Date(armed.slot),
        intent.jobId,
        replacement?.executionId ?? null,
      ]);
    };
  }

  private async queue(executionId: string, owner: { workspaceId: string; jobId: string }, job: JobSnapshot, scheduledFor: string | null, now: Date): Promise<void> {
    try {
      await launchExecution(this.store, { executionId, workspaceId: owner.workspaceId, jobId: owner.jobId, trigger: 'schedule', scheduledFor, job }, () => now);
    } catch (error) {
      // Stored by an earlier attempt of this entry (same msg id, or the subject already begun).
      if (!(error instanceof ConcurrencyConflict)) throw error;
    }
  }
}
