import type { JsMsg } from '@nats-io/jetstream';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { type ExecutionEvent, InvalidEventError } from '@trigrun/execution-contracts';
import { decodeEvent } from '@trigrun/execution-store';
import { type Disposition, ack, nakAfter, term } from '@trigrun/messaging';
import { type ExecutionView, project, skipped } from './execution.projection';
import { COLUMNS, type RawExecutionRow, upsertSql, valuesOf, viewOfRow } from './execution.table';

export interface Delivery {
  readonly msg: JsMsg;
  readonly deliveryCount: number;
}

interface Item {
  readonly event: ExecutionEvent;
  readonly seq: number;
  readonly deliveryCount: number;
}

/** An event the projection could not apply, reported once its batch is committed. */
export interface ProjectionFailure {
  readonly executionId: string;
  readonly eventType: string;
  readonly position: number;
  readonly seq: number;
  readonly reason: string;
}

export interface ProjectorOptions {
  /** Called after the commit, once per skipped event: the operator's log line and metric. */
  readonly onFailure?: (failure: ProjectionFailure) => void;
}

/** One execution's changes in a batch: its row before, and the events applied in order. */
interface RowChange {
  readonly before: ExecutionView | null;
  view: ExecutionView;
  seq: number;
  readonly applied: Array<{ readonly event: ExecutionEvent; readonly seq: number; readonly index: number }>;
}

/**
 * Writes the execution read model from the event stream, a batch of deliveries per transaction.
 * (What executions do to their job — `last_run_at`, a one-shot job's `completed` — is the jobs
 * reaction's, in libs/jobs, on a consumer of its own.) The row's `position` is its checkpoint
 * and is written in the same statement as the row: an event at or below it is a redelivery and
 * is acked untouched; an event beyond the next position waits (nak) for the one before it.
 * Events of one execution in a batch are folded in memory and written once.
 *
 * An event that cannot be applied — the fold throws, or PostgreSQL refuses the row for its data
 * (SQLSTATE classes 22, 23, 54) — is skipped: the row keeps what it had, its checkpoint moves past
 * the event, `projection_error` says so and `onFailure` counts it, and the next event applies.
 * Any other failure (the database unreachable, a serialization conflict) fails the whole batch,
 * which is redelivered: those pass, skipping would lose events that were fine.
 */
export class ExecutionProjector {
  private failed = 0;

  constructor(
    private readonly orm: MikroORM,
    private readonly options: ProjectorOptions = {},
  ) {}

  /** Events skipped since this projector started (trigrun_projection_failures_total). */
  get failures(): number {
    return this.failed;
  }

  async handle(msg: JsMsg, deliveryCount = 1): Promise<Disposition> {
    return (await this.handleBatch([{ msg, deliveryCount }]))[0];
  }

  async handleBatch(deliveries: readonly Delivery[]): Promise<Disposition[]> {
    const dispositions: Disposition[] = new Array(deliveries.length);
    const items: Array<Item & { index: number }> = [];
    deliveries.forEach(({ msg, deliveryCount }, index) => {
      try {
        items.push({ event: decodeEvent(msg.data), seq: msg.seq, deliveryCount, index });
      } catch (error) {
        if (!(error instanceof InvalidEventError || error instanceof SyntaxError)) throw error;
        dispositions[index] = term(`unreadable event: ${(error as Error).message}`);
      }
    });
    if (items.length > 0) {
      let failures: ProjectionFailure[] = [];
      const run = (careful: boolean) => {
        failures = [];
        return this.orm.em.fork().transactional((em) => this.applyBatch(em, items, failures, careful));
      };
      let applied: Disposition[];
      try {
        applied = await run(false);
      } catch (error) {
        // A row refused for its data aborts the transaction: the batch runs again, row by row.
        if (!(error instanceof RowRefused)) throw error;
        applied = await run(true);
      }
      items.forEach((item, i) => (dispositions[item.index] = applied[i]));
      for (const failure of failures) {
        this.failed++;
        this.options.onFailure?.(failure);
      }
    }
    return dispositions;
  }

  async apply(em: EntityManager, event: ExecutionEvent, seq: number, deliveryCount = 1): Promise<Disposition> {
    return (await this.applyBatch(em, [{ event, seq, deliveryCount }]))[0];
  }

  /**
   * `careful`: write each row in a savepoint, skipping the events PostgreSQL refuses. Otherwise
   * one statement for all rows (no savepoint on the hot path), throwing RowRefused if refused.
   */
  async applyBatch(em: EntityManager, items: readonly Item[], failures: ProjectionFailure[] = [], careful = true): Promise<Disposition[]> {
    // Plain SQL on the hot path: the ORM's entity bookkeeping cost more CPU than the database work.
    const ids = [...new Set(items.map((i) => i.event.execution_id))];
    const rows = await em.execute<RawExecutionRow[]>(
      `select ${COLUMNS.join(', ')} from executions where id in (${ids.map(() => '?').join(', ')}) order by id for update`,
      ids,
    );
    const views = new Map<string, ExecutionView | null>(rows.map((r) => [r.id as string, viewOfRow(r)]));
    const changed = new Map<string, RowChange>();
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
      const next = projectOrSkip(current, event, (reason) => failures.push(failureOf(event, seq, reason)));
      if (!next) {
        dispositions[i] = term(`${event.type} at position ${event.position} has no execution to apply to`);
        continue;
      }
      views.set(event.execution_id, next);
      const change = changed.get(event.execution_id) ?? { before: current, view: next, seq, applied: [] };
      change.view = next;
      change.seq = seq;
      change.applied.push({ event, seq, index: i });
      changed.set(event.execution_id, change);
      dispositions[i] = ack();
    }
    await this.writeRows(em, [...changed.values()], dispositions, failures, careful);
    return dispositions;
  }

  /**
   * One upsert for every changed row. When PostgreSQL refuses a row for its data, each row is
   * written alone, and a refused row event by event, so that only the events it refuses are
   * skipped. Savepoints keep the transaction usable after a refused statement.
   */
  private async writeRows(em: EntityManager, changes: readonly RowChange[], dispositions: Disposition[], failures: ProjectionFailure[], careful: boolean): Promise<void> {
    if (changes.length === 0) return;
    const upsert = (rows: ReadonlyArray<{ view: ExecutionView; seq: number }>) =>
      em.execute(upsertSql(rows.length), rows.flatMap(({ view, seq }) => valuesOf(view, seq)));
    if (!careful) {
      try {
        await upsert(changes);
        return;
      } catch (error) {
        if (isRowDataError(error)) throw new RowRefused(error);
        throw error;
      }
    }
    if ((await refusedForData(em, () => upsert(changes))) === null) return;
    // The folds of the first pass already reported their own failures.
    const reported = new Set(failures.map((f) => `${f.executionId}:${f.position}`));
    for (const change of changes) {
      if ((await refusedForData(em, () => upsert([change]))) === null) continue;
      let view = change.before;
      for (const { event, seq, index } of change.applied) {
        const candidate = projectOrSkip(view, event, (reason) => {
          if (!reported.has(`${event.execution_id}:${event.position}`)) failures.push(failureOf(event, seq, reason));
        });
        if (!candidate) continue;
        const refused = await refusedForData(em, () => upsert([{ view: candidate, seq }]));
        if (refused === null) {
          view = candidate;
          continue;
        }
        failures.push(failureOf(event, seq, refused));
        if (!view) {
          // Not even the row's first event is storable: there is no row to show it on.
          dispositions[index] = term(`${event.type} at position ${event.position} cannot be stored (${refused})`);
          break;
        }
        view = skipped(view, event, refused);
        await upsert([{ view, seq }]);
      }
    }
  }
}

/** `project`, or the row past the event when the fold throws (a bug or a shape no check caught). */
function projectOrSkip(view: ExecutionView | null, event: ExecutionEvent, report: (reason: string) => void): ExecutionView | null {
  try {
    return project(view, event);
  } catch (error) {
    const reason = `the projection failed: ${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}`.slice(0, 300);
    report(reason);
    return view ? skipped(view, event, reason) : null;
  }
}

const failureOf = (event: ExecutionEvent, seq: number, reason: string): ProjectionFailure => ({
  executionId: event.execution_id,
  eventType: event.type,
  position: event.position,
  seq,
  reason,
});

/**
 * SQLSTATE classes that mean "this row's data": 22 data exception (a value out of range, a
 * character or escape the encoding refuses), 23 integrity constraint, 54 program limit (nesting
 * too deep). Anything else — connection, resources, serialization, syntax — is not about the row,
 * and is retried. So is 23505 (unique violation): two consumers creating the same row at once,
 * which the redelivery then finds applied.
 */
const ROW_DATA_CLASSES = new Set(['22', '23', '54']);
const TRANSIENT_STATES = new Set(['23505']);
const isRowDataError = (error: unknown): boolean => {
  const state = sqlStateOf(error);
  return state !== undefined && ROW_DATA_CLASSES.has(state.slice(0, 2)) && !TRANSIENT_STATES.has(state);
};

/** Thrown out of a hot-path transaction whose upsert PostgreSQL refused for a row's data. */
class RowRefused extends Error {
  constructor(cause: unknown) {
    super('a row of the batch was refused for its data', { cause });
    this.name = 'RowRefused';
  }
}
const REASON_OF_CLASS: Record<string, string> = {
  '22': 'PostgreSQL refused a value of the row as malformed or out of range',
  '23': 'PostgreSQL refused the row for a constraint',
  '54': 'a value of the row exceeds a PostgreSQL limit',
};

function sqlStateOf(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown; previous?: unknown }).previous ?? (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * Runs `write` in a savepoint. Null when it succeeded; the reason when PostgreSQL refused the row
 * for its data (rolled back to the savepoint, so the transaction goes on). Rethrows anything else.
 * The reason names the SQLSTATE, never the values (they are the execution's data).
 */
async function refusedForData(em: EntityManager, write: () => Promise<unknown>): Promise<string | null> {
  await em.execute('savepoint projector_row');
  try {
    await write();
  } catch (error) {
    if (!isRowDataError(error)) throw error;
    const state = sqlStateOf(error)!;
    await em.execute('rollback to savepoint projector_row');
    return `${REASON_OF_CLASS[state.slice(0, 2)]}, SQLSTATE ${state}`;
  }
  await em.execute('release savepoint projector_row');
  return null;
}
