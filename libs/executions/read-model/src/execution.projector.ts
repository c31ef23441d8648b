import type { JsMsg } from '@nats-io/jetstream';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { type ExecutionEvent, InvalidEventError, parseExecutionEvent } from '@trigrun/execution-contracts';
import { type Disposition, ack, nakAfter, term } from '@trigrun/messaging';
import { type ExecutionView, project } from './execution.projection';
import { COLUMNS, type RawExecutionRow, upsertSql, valuesOf, viewOfRow } from './execution.table';

const decoder = new TextDecoder();

export interface Delivery {
  readonly msg: JsMsg;
  readonly deliveryCount: number;
}

interface Item {
  readonly event: ExecutionEvent;
  readonly seq: number;
  readonly deliveryCount: number;
}

/**
 * Writes the execution read model (and the job fields that follow from executions) from the
 * event stream, a batch of deliveries per transaction. The row's `position` is its checkpoint
 * and is written in the same statement as the row: an event at or below it is a redelivery and
 * is acked untouched; an event beyond the next position waits (nak) for the one before it.
 * Events of one execution in a batch are folded in memory and written once.
 */
export class ExecutionProjector {
  constructor(private readonly orm: MikroORM) {}

  async handle(msg: JsMsg, deliveryCount = 1): Promise<Disposition> {
    return (await this.handleBatch([{ msg, deliveryCount }]))[0];
  }

  async handleBatch(deliveries: readonly Delivery[]): Promise<Disposition[]> {
    const dispositions: Disposition[] = new Array(deliveries.length);
    const items: Array<Item & { index: number }> = [];
    deliveries.forEach(({ msg, deliveryCount }, index) => {
      try {
        items.push({ event: parseExecutionEvent(JSON.parse(decoder.decode(msg.data))), seq: msg.seq, deliveryCount, index });
      } catch (error) {
        if (!(error instanceof InvalidEventError || error instanceof SyntaxError)) throw error;
        dispositions[index] = term(`unreadable event: ${(error as Error).message}`);
      }
    });
    if (items.length > 0) {
      const applied = await this.orm.em.fork().transactional((em) => this.applyBatch(em, items));
      items.forEach((item, i) => (dispositions[item.index] = applied[i]));
    }
    return dispositions;
  }

  async apply(em: EntityManager, event: ExecutionEvent, seq: number, deliveryCount = 1): Promise<Disposition> {
    return (await this.applyBatch(em, [{ event, seq, deliveryCount }]))[0];
  }

  async applyBatch(em: EntityManager, items: readonly Item[]): Promise<Disposition[]> {
    // Plain SQL on the hot path: the ORM's entity bookkeeping cost more CPU than the database work.
    const ids = [...new Set(items.map((i) => i.event.execution_id))];
    const rows = await em.execute<RawExecutionRow[]>(
      `select ${COLUMNS.join(', ')} from executions where id in (${ids.map(() => '?').join(', ')}) order by id for update`,
      ids,
    );
    const views = new Map<string, ExecutionView | null>(rows.map((r) => [r.id as string, viewOfRow(r)]));
    const changed = new Map<string, { view: ExecutionView; seq: number }>();
    const jobEffects: ExecutionEvent[] = [];
    // In stream order, so each execution's events fold in position order.
    const order = items.map((item, i) => ({ item, i })).sort((a, b) => a.item.seq - b.item.seq);
    const dispositions: Disposition[] = new Array(items.length);
    for (const { item, i } of order) {
      const { event, seq, deliveryCount } = item;
      const current = views.get(event.execution_id) ?? null;
      if (current && event.position <= current.position) {
        dispositions[i] = ack();
        continue;
      }
      if (event.position !== (current?.position ?? 0) + 1) {
        // An earlier event of this execution is still on its way: wait for it, backing off.
        dispositions[i] = nakAfter(Math.min(250 * 2 ** Math.min(deliveryCount - 1, 7), 30_000));
        continue;
      }
      const next = project(current, event);
      if (!next) {
        dispositions[i] = term(`${event.type} at position ${event.position} has no execution to apply to`);
        continue;
      }
      views.set(event.execution_id, next);
      changed.set(event.execution_id, { view: next, seq });
      jobEffects.push(event);
      dispositions[i] = ack();
    }
    if (changed.size > 0) {
      const values = [...changed.values()];
      await em.execute(upsertSql(values.length), values.flatMap(({ view, seq }) => valuesOf(view, seq)));
    }
    await this.applyJobEffects(em, jobEffects, views);
    return dispositions;
  }

  /**
   * Executions move their job: last_run_at, and `completed` after the one run of a one_time or
   * scheduled job. One statement per kind of change for the whole batch.
   */
  private async applyJobEffects(em: EntityManager, events: readonly ExecutionEvent[], views: ReadonlyMap<string, ExecutionView | null>): Promise<void> {
    const lastRun = new Map<string, string>();
    const completed = new Map<string, string>();
    for (const event of events) {
      const view = views.get(event.execution_id)!;
      if (event.type === 'ExecutionStarted' && (lastRun.get(event.job_id) ?? '') < event.occurred_at) lastRun.set(event.job_id, event.occurred_at);
      const ended = event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed';
      // One-shot jobs complete after their run: one_time, scheduled, and a workflow on `run_at` (checked against the row below).
      if (ended && view.trigger === 'schedule' && ['one_time', 'scheduled', 'workflow'].includes(view.kind)) completed.set(event.job_id, event.occurred_at);
    }
    const values = (m: Map<string, string>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
    if (lastRun.size > 0) {
      const rows = values(lastRun);
      await em.execute(
        `update jobs set last_run_at = greatest(coalesce(last_run_at, v.t), v.t)
         from (values ${rows.map(() => '(?, ?::timestamptz)').join(', ')}) as v(id, t) where jobs.id = v.id`,
        rows.flat(),
      );
    }
    if (completed.size > 0) {
      const rows = values(completed);
      await em.execute(
        `update jobs set state = 'completed', next_run_at = null, updated_at = v.t
         from (values ${rows.map(() => '(?, ?::timestamptz)').join(', ')}) as v(id, t) where jobs.id = v.id and jobs.state = 'active'
           and (jobs.kind in ('one_time', 'scheduled') or jobs.schedule->>'run_at' is not null)`,
        rows.flat(),
      );
    }
  }
}
