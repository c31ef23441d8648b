import type { JsMsg } from '@nats-io/jetstream';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { EVENT_TYPE_HEADER, type ExecutionEvent, type ExecutionEventType, InvalidEventError, parseExecutionEvent } from '@trigrun/execution-contracts';
import { type Disposition, ack, term } from '@trigrun/messaging';
import { type OneShotEnd, type RunStart, activeOneShotJobs, completeOneShots, recordStarts } from './job-table';

const decoder = new TextDecoder();

export interface ReactionDelivery {
  readonly msg: JsMsg;
  readonly deliveryCount: number;
}

/** Reads how an execution began from the event store (ExecutionStore fits): its first `count` events. */
export interface ExecutionHistory {
  opening(executionId: string, count: number): Promise<readonly ExecutionEvent[]>;
}

export interface JobsReactionOptions {
  /** Called once per event the jobs table refused for its data (the event is terminated): the operator's log line. */
  readonly onRefused?: (event: ExecutionEvent, reason: string) => void;
}

/** The only events that move a job; every other event is passed unread (its type travels in a header), but for ExecutionQueued's trigger. */
const MOVES_A_JOB: ReadonlySet<ExecutionEventType> = new Set(['ExecutionStarted', 'ExecutionSucceeded', 'ExecutionFailed']);

/** How many executions' triggers the reaction remembers from their ExecutionQueued (oldest forgotten first). */
const REMEMBERED_TRIGGERS = 20_000;

interface Item {
  readonly event: ExecutionEvent;
  readonly index: number;
}

/**
 * The jobs reaction: what executions do to their job, from the executions stream on a consumer
 * of its own (CONSUMERS.schedulerJobs, read with a recorded position: PositionedConsumerRunner).
 *
 * - An execution that starts moves its job's `last_run_at` (never back).
 * - The end (succeeded or failed) of a one-shot job's own run — the run the job queued itself
 *   (`trigger: "schedule"`), not a run-now or a replay — completes the job: `state: completed`,
 *   no `next_run_at`. One-shot: one_time, scheduled, and a workflow on `schedule.run_at`.
 *
 * The trigger is not on the terminal event. The reaction remembers it from the run's
 * ExecutionQueued, which it reads before the end (stream order); for an end whose queue event it
 * did not see (a restart between the two) the history's first event is read from the event store
 * by direct get.
 *
 * Every write is conditional and monotonic (`greatest`, `where state = 'active'`), so a
 * redelivered event, a restart mid-batch, or two replicas given the same job's events change
 * nothing more than one delivery would. A batch is one transaction; if PostgreSQL refuses a value
 * of an event for its data, the batch runs again event by event and only that event is
 * terminated (dead-lettered by the consumer runner); any other failure fails the batch, which is
 * read again.
 */
export class JobsReaction {
  /**
   * Whether each recently queued execution is its job's own run (`trigger: "schedule"`), and when
   * it started, read off its ExecutionQueued and ExecutionStarted as the stream goes by: the
   * reaction reads in stream order, so both come before the end, and the end of a one-shot job's
   * run needs no read of its history. Not seen (a restart in between, an end handled first):
   * read from the event store.
   */
  private readonly seen = new Map<string, { readonly ownRun: boolean; startedAt?: string }>();

  constructor(
    private readonly orm: MikroORM,
    private readonly history: ExecutionHistory,
    private readonly options: JobsReactionOptions = {},
  ) {}

  async handle(msg: JsMsg, deliveryCount = 1): Promise<Disposition> {
    return (await this.handleBatch([{ msg, deliveryCount }]))[0];
  }

  async handleBatch(deliveries: readonly ReactionDelivery[]): Promise<Disposition[]> {
    const dispositions: Disposition[] = deliveries.map(() => ack());
    const items: Item[] = [];
    deliveries.forEach(({ msg }, index) => {
      const type = msg.headers?.get(EVENT_TYPE_HEADER);
      if (type === 'ExecutionQueued') return this.rememberTrigger(msg);
      if (type && !MOVES_A_JOB.has(type as ExecutionEventType)) return;
      try {
        const event = parseExecutionEvent(JSON.parse(decoder.decode(msg.data)));
        if (MOVES_A_JOB.has(event.type)) items.push({ event, index });
      } catch (error) {
        if (!(error instanceof InvalidEventError || error instanceof SyntaxError)) throw error;
        dispositions[index] = term(`unreadable event: ${(error as Error).message}`);
      }
    });
    if (items.length === 0) return dispositions;
    const effects = await this.effectsOf(items);
    try {
      await this.apply(effects);
    } catch (error) {
      if (!isRowDataError(error)) throw error;
      // One event's values refused: the others still apply, each on its own.
      for (const effect of effects) {
        try {
          await this.apply([effect]);
        } catch (single) {
          if (!isRowDataError(single)) throw single;
          const reason = `the jobs table refused the event's values, SQLSTATE ${sqlStateOf(single)}`;
          this.options.onRefused?.(effect.item.event, reason);
          dispositions[effect.item.index] = term(reason);
        }
      }
    }
    return dispositions;
  }

  /** What each event does to its job; the ends of runs that are not a one-shot job's own do nothing. */
  private async effectsOf(items: readonly Item[]): Promise<Effect[]> {
    const ends = items.filter(({ event }) => event.type !== 'ExecutionStarted');
    const oneShots = ends.length > 0 ? await activeOneShotJobs(this.orm.em.fork(), ends.map(({ event }) => event.job_id)) : new Set<string>();
    return Promise.all(
      items.map(async (item): Promise<Effect> => {
        const { event } = item;
        if (event.type === 'ExecutionStarted') {
          const seen = this.seen.get(event.execution_id);
          if (seen) seen.startedAt = event.occurred_at;
          return { item, start: { jobId: event.job_id, at: event.occurred_at } };
        }
        const opening = oneShots.has(event.job_id) ? await this.openingOf(event.execution_id) : undefined;
        this.seen.delete(event.execution_id);
        if (!opening?.ownRun) return { item };
        return { item, end: { jobId: event.job_id, endedAt: event.occurred_at, startedAt: opening.startedAt ?? null } };
      }),
    );
  }

  private rememberTrigger(msg: JsMsg): void {
    try {
      const event = JSON.parse(decoder.decode(msg.data)) as { execution_id?: unknown; data?: { trigger?: unknown } };
      if (typeof event.execution_id !== 'string') return;
      if (this.seen.size >= REMEMBERED_TRIGGERS) this.seen.delete(this.seen.keys().next().value as string);
      this.seen.set(event.execution_id, { ownRun: event.data?.trigger === 'schedule' });
    } catch {
      // Unreadable: the end, if it comes, reads the history instead.
    }
  }

  /** Whether the run is its job's own, and when it started: as seen going by, else from the history. */
  private async openingOf(executionId: string): Promise<{ ownRun: boolean; startedAt?: string }> {
    const seen = this.seen.get(executionId);
    if (seen?.startedAt !== undefined) return seen;
    // ExecutionQueued (the trigger) and ExecutionStarted (the start) open every history. No
    // ExecutionQueued: the history has aged out of the stream (TRIGRUN_EVENT_RETENTION_DAYS) and
    // the trigger is unknown; only a job's own run completes it, so nothing is done.
    const events = await this.history.opening(executionId, 2);
    const queued = events.find((e) => e.type === 'ExecutionQueued');
    return {
      ownRun: queued?.type === 'ExecutionQueued' && queued.data.trigger === 'schedule',
      startedAt: events.find((e) => e.type === 'ExecutionStarted')?.occurred_at,
    };
  }

  /**
   * Writes the effects: starts alone are one statement, which needs no transaction of its own
   * (most batches: every execution starts, few are a one-shot job's own run). The bench counts
   * what a transaction costs here: three round trips and the ORM's bookkeeping, per batch.
   */
  private async apply(effects: readonly Effect[]): Promise<void> {
    if (effects.every((e) => !e.end)) return recordStarts(this.orm.em.fork(), effects.flatMap((e) => (e.start ? [e.start] : [])));
    await this.orm.em.fork().transactional((em) => this.write(em, effects));
  }

  private async write(em: EntityManager, effects: readonly Effect[]): Promise<void> {
    await recordStarts(em, effects.flatMap((e) => (e.start ? [e.start] : [])));
    await completeOneShots(em, effects.flatMap((e) => (e.end ? [e.end] : [])));
  }
}

interface Effect {
  readonly item: Item;
  readonly start?: RunStart;
  readonly end?: OneShotEnd;
}

/**
 * SQLSTATE classes that mean "this event's values": 22 data exception, 23 integrity constraint,
 * 54 program limit. Anything else (connection, serialization, deadlock) is not about the event and
 * is retried by redelivery.
 */
const ROW_DATA_CLASSES = new Set(['22', '23', '54']);
const isRowDataError = (error: unknown): boolean => {
  const state = sqlStateOf(error);
  return state !== undefined && ROW_DATA_CLASSES.has(state.slice(0, 2)) && state !== '23505';
};

function sqlStateOf(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown; previous?: unknown }).previous ?? (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
