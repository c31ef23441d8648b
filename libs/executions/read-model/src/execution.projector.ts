import type { JsMsg } from '@nats-io/jetstream';
import { LockMode, type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { type ExecutionEvent, InvalidEventError, parseExecutionEvent } from '@trigrun/execution-contracts';
import { type Disposition, ack, nakAfter, term } from '@trigrun/messaging';
import { type ExecutionView, project } from './execution.projection';
import { ExecutionRow } from './execution.row';

const decoder = new TextDecoder();

/**
 * Writes the execution read model (and the job fields that follow from executions) from the
 * event stream. The row's `position` is its checkpoint and is written in the same transaction as
 * the row: an event at or below it is a redelivery and is acked untouched; an event beyond the
 * next position waits (nak) for the one before it.
 */
export class ExecutionProjector {
  constructor(private readonly orm: MikroORM) {}

  async handle(msg: JsMsg, deliveryCount = 1): Promise<Disposition> {
    let event: ExecutionEvent;
    try {
      event = parseExecutionEvent(JSON.parse(decoder.decode(msg.data)));
    } catch (error) {
      if (error instanceof InvalidEventError || error instanceof SyntaxError) return term(`unreadable event: ${(error as Error).message}`);
      throw error;
    }
    return this.orm.em.fork().transactional((em) => this.apply(em, event, msg.seq, deliveryCount));
  }

  async apply(em: EntityManager, event: ExecutionEvent, seq: number, deliveryCount = 1): Promise<Disposition> {
    const row = await em.findOne(ExecutionRow, { id: event.execution_id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    const current = row ? viewOf(row) : null;
    if (current && event.position <= current.position) return ack();
    // An earlier event of this execution is still on its way: wait for it, backing off.
    if (event.position !== (current?.position ?? 0) + 1) return nakAfter(Math.min(250 * 2 ** Math.min(deliveryCount - 1, 7), 30_000));
    const next = project(current, event);
    if (!next) return term(`${event.type} at position ${event.position} has no execution to apply to`);
    const target = row ?? em.create(ExecutionRow, { id: next.id } as ExecutionRow);
    Object.assign(target, rowFieldsOf(next), { lastSeq: seq, updatedAt: new Date() });
    await em.flush();
    await this.applyToJob(em, event, next);
    return ack();
  }

  /** Executions move their job: last_run_at, and `completed` after the one run of a one_time or scheduled job. */
  private async applyToJob(em: EntityManager, event: ExecutionEvent, view: ExecutionView): Promise<void> {
    if (event.type === 'ExecutionStarted') {
      await em.execute('update jobs set last_run_at = greatest(coalesce(last_run_at, ?), ?) where id = ?', [
        event.occurred_at,
        event.occurred_at,
        event.job_id,
      ]);
    }
    const ended = event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed';
    if (ended && view.trigger === 'schedule' && (view.kind === 'one_time' || view.kind === 'scheduled')) {
      await em.execute("update jobs set state = 'completed', next_run_at = null, updated_at = ? where id = ? and state = 'active'", [
        event.occurred_at,
        event.job_id,
      ]);
    }
  }
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const date = (s: string | null) => (s ? new Date(s) : null);

export function viewOf(row: ExecutionRow): ExecutionView {
  return {
    id: row.id,
    workspaceId: row.workspaceId,
    jobId: row.jobId,
    jobName: row.jobName,
    kind: row.kind,
    status: row.status,
    trigger: row.trigger,
    scheduledFor: iso(row.scheduledFor),
    queuedAt: row.queuedAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    durationMs: row.durationMs,
    attempts: row.attempts,
    triggerInput: row.triggerInput,
    finalOutput: row.finalOutput,
    error: row.error,
    replayOf: row.replayOf,
    position: row.position,
  };
}

function rowFieldsOf(view: ExecutionView): Partial<ExecutionRow> {
  return {
    workspaceId: view.workspaceId,
    jobId: view.jobId,
    jobName: view.jobName,
    kind: view.kind,
    status: view.status,
    trigger: view.trigger,
    scheduledFor: date(view.scheduledFor),
    queuedAt: new Date(view.queuedAt),
    startedAt: date(view.startedAt),
    finishedAt: date(view.finishedAt),
    durationMs: view.durationMs,
    attempts: storable([...view.attempts]),
    triggerInput: storable(view.triggerInput),
    finalOutput: storable(view.finalOutput),
    error: view.error,
    replayOf: view.replayOf,
    position: view.position,
  };
}

/** jsonb cannot hold U+0000 in strings; anything a target or a webhook sent may contain it. */
function storable<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value) as T;
  if (Array.isArray(value)) return value.map(storable) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storable(v)])) as T;
  }
  return value;
}
