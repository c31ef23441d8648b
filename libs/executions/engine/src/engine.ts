import type { JsMsg } from '@nats-io/jetstream';
import { type DeliverCallback, type ExecutionEvent, InvalidEventError } from '@trigrun/execution-contracts';
import { type ExecutionIdentity, evolve, initialState, nextAction } from '@trigrun/execution-domain';
import type { GuardedHttpClient } from '@trigrun/http-client';
import { type Disposition, type MessageContext, ack, nakAfter, term } from '@trigrun/messaging';
import { callbackFor } from './callbacks';
import { type SecretReferences, type SecretResolver, performAttempt } from './request-attempt';
import { type ExecutionStore, type LoadedExecution, decodeEvent, newExecutionUuid } from './execution-store';

export interface EngineDeps {
  readonly store: ExecutionStore;
  readonly http: GuardedHttpClient;
  readonly secrets: SecretResolver;
  /** Issues a DeliverCallback command durably (see callbacks.ts). */
  readonly requestCallback: (command: DeliverCallback) => Promise<void>;
  readonly references: SecretReferences;
  readonly now: () => Date;
  readonly random: () => number;
  readonly logger: { warn(message: string, meta?: object): void; debug(message: string, meta?: object): void };
}

/**
 * Drives executions forward. Each delivered event is handled by looking at the execution's
 * *latest* state: when the event is not the last one, a later event drives and this one is
 * acked; otherwise the state's next action is performed — exactly one per delivery, and its
 * result is appended, which delivers the next event. A crash anywhere leaves the last event
 * unacked, so it is redelivered and the same action is taken again; the expected-sequence
 * guard and the decider's duplicate rules make the repeat harmless.
 */
export class ExecutionEngine {
  /** Executions in flight on this replica, as last written: most deliveries need no read-back. */
  private readonly cache = new Map<string, LoadedExecution>();

  constructor(
    private readonly deps: EngineDeps,
    private readonly cacheLimit = 20_000,
  ) {}

  async handle(msg: JsMsg, ctx: MessageContext): Promise<Disposition> {
    let event: ExecutionEvent;
    try {
      event = decodeEvent(msg.data);
    } catch (error) {
      if (error instanceof InvalidEventError || error instanceof SyntaxError) {
        return term(`unreadable event at seq ${msg.seq}: ${(error as Error).message}`);
      }
      throw error;
    }
    const identity: ExecutionIdentity = { executionId: event.execution_id, jobId: event.job_id, workspaceId: event.workspace_id };
    const known = this.known(event, msg.seq);
    if (known === 'stale') return ack();
    const loaded = known ?? (await this.deps.store.load(identity.executionId));
    if (msg.seq < loaded.lastSeq) return ack();
    try {
      return await this.advance(identity, loaded, ctx);
    } catch (error) {
      this.cache.delete(identity.executionId);
      throw error;
    }
  }

  /**
   * The execution as of `event`, from memory when that is certain, so the common path reads
   * nothing back from the stream: the first event is a whole history by itself, and an event
   * right after (or equal to) what this replica last wrote extends what it holds. 'stale' when a
   * later event is known. Anything else (another replica wrote, a restart) loads the history.
   * Acting on a view that missed a newer event is safe: the append's expected sequence fails and
   * the store reloads.
   */
  private known(event: ExecutionEvent, seq: number): LoadedExecution | 'stale' | undefined {
    const cached = this.cache.get(event.execution_id);
    if (cached && cached.position > event.position) return 'stale';
    if (cached && cached.position === event.position && cached.lastSeq === seq) return cached;
    if (cached && cached.position === event.position - 1) return extend(cached, event, seq);
    if (event.position === 1) return extend(EMPTY, event, seq);
    return undefined;
  }

  private remember(loaded: LoadedExecution): void {
    const id = loaded.events[0]?.execution_id;
    if (!id) return;
    // Ended executions stay until their last event comes back (the 'none' action drops them):
    // otherwise the deliveries of the final events would each read the whole history again.
    this.cache.delete(id);
    this.cache.set(id, loaded);
    // Map iteration order is insertion order: the first key is the least recently written.
    if (this.cache.size > this.cacheLimit) this.cache.delete(this.cache.keys().next().value!);
  }

  private async advance(identity: ExecutionIdentity, loaded: LoadedExecution, ctx: MessageContext): Promise<Disposition> {
    const now = this.deps.now();
    const action = nextAction(loaded.state, now.toISOString());
    const run = async (command: Parameters<ExecutionStore['execute']>[1]) => {
      const result = await this.deps.store.execute(identity, command, { now: this.deps.now, loaded });
      this.remember(result.loaded);
      return result;
    };
    switch (action.type) {
      case 'none': {
        this.cache.delete(identity.executionId);
        // The terminal event is the last one: its delivery issues the success/failure callback,
        // acked only once the command is stored.
        const callback = callbackFor(loaded.events);
        if (callback) await this.deps.requestCallback(callback);
        return ack();
      }
      case 'wait':
        // A durable timer: the message stays unacked and JetStream delivers it again at `until`.
        return nakAfter(Date.parse(action.until) - now.getTime());
      case 'start':
        await run(() => ({ type: 'StartExecution', now: now.toISOString(), uuid: newExecutionUuid() }));
        return ack();
      case 'finish':
        await run(() => ({ type: 'FinishExecution' }));
        return ack();
      case 'send': {
        const result = await performAttempt(this.deps, {
          workspaceId: identity.workspaceId,
          executionId: identity.executionId,
          number: action.attemptNumber,
          request: action.request,
          variables: action.variables,
          outputTemplate: action.outputTemplate,
          signal: ctx.signal,
        });
        // Our own shutdown cut the request short: hand the message back rather than record a
        // failure the target never caused. The next delivery repeats the attempt.
        if (ctx.signal.aborted) throw new Error('shutting down: attempt handed back');
        if (result.kind === 'template_error') {
          await run(() => ({ type: 'FailExecution', error: { code: 'template_error', message: result.message } }));
          return ack();
        }
        const { attempt, output } = result;
        const outcome = await run(() => ({ type: 'RecordAttempt', attempt, output, now: this.deps.now().toISOString(), jitter: this.deps.random() }));
        if ('ignored' in outcome) this.deps.logger.debug('attempt result ignored', { execution_id: identity.executionId, reason: outcome.ignored });
        return ack();
      }
    }
  }
}

const EMPTY: LoadedExecution = { state: initialState(), events: [], lastSeq: 0, position: 0 };
const extend = (loaded: LoadedExecution, event: ExecutionEvent, seq: number): LoadedExecution => ({
  state: evolve(loaded.state, event),
  events: [...loaded.events, event],
  lastSeq: seq,
  position: event.position,
});
