import type { JsMsg } from '@nats-io/jetstream';
import {
  type AttemptRecord,
  type DeliverCallback,
  callbackFor,
  type ExecutionError,
  type ExecutionEvent,
  InvalidEventError,
  type JobSnapshot,
  isStepDriven,
  storableValue,
} from '@trigrun/execution-contracts';
import { type ExecutionCommand, type ExecutionIdentity, type ExecutionState, type NextAction, evolve, initialState, nextAction } from '@trigrun/execution-domain';
import type { GuardedHttpClient } from '@trigrun/http-client';
import { type Disposition, type MessageContext, ack, nakAfter, term } from '@trigrun/messaging';

import { type SecretReferences, type SecretResolver, performAttempt } from './request-attempt';
import { type AppendResult, type ExecutionStore, type LoadedExecution, UnstorableEventError, decodeEvent, newExecutionUuid } from '@trigrun/execution-store';
import { type TokenSealer, mintParkToken } from '@trigrun/execution-store';

interface SlotHolder {
  readonly executionId: string;
  readonly jobId: string;
  readonly workspaceId: string;
}

/** What step-driven executions need beyond the stream (ports; the step-runner wires the Postgres adapters). */
export interface WorkflowPorts {
  /** Seals park tokens under the master key (only the sealed form and a hash are recorded). */
  readonly sealer: TokenSealer;
  /** The job's persisted context store (docs/workflows.md): read at start, written by extract_to_context. */
  readonly context: {
    seed(jobId: string): Promise<Record<string, string>>;
    merge(jobId: string, workspaceId: string, values: Record<string, string>): Promise<void>;
  };
  /** Durable timers for parked steps, fired by the scheduler as Wake commands. */
  readonly timers: {
    schedule(t: { executionId: string; jobId: string; workspaceId: string; dueAt: Date }): Promise<void>;
    cancel(executionId: string): Promise<void>;
  };
  /** max_concurrent_executions: FIFO admission per job. */
  readonly slots: {
    acquire(e: { executionId: string; jobId: string; workspaceId: string; queuedAt: Date; queueSeq: number; cap: number }): Promise<{ admitted: boolean; alsoAdmitted: readonly SlotHolder[] }>;
    release(executionId: string, jobId: string, cap: number): Promise<readonly SlotHolder[]>;
  };
}

export interface EngineDeps {
  readonly store: ExecutionStore;
  readonly http: GuardedHttpClient;
  readonly secrets: SecretResolver;
  /** Issues a DeliverCallback command durably (see callbacks.ts). */
  readonly requestCallback: (command: DeliverCallback) => Promise<void>;
  readonly references: SecretReferences;
  readonly workflows: WorkflowPorts;
  readonly now: () => Date;
  readonly random: () => number;
  readonly logger: { warn(message: string, meta?: object): void; debug(message: string, meta?: object): void };
  /**
   * Moves when the broker connection drops or comes back (connectionEpoch): the cache is then
   * dropped, since appends the broker acknowledged just before a crash may not have survived it.
   */
  readonly connectionEpoch?: () => number;
}

/**
 * Drives executions forward. Each delivered event is handled by looking at the execution's
 * *latest* state: when the event is not the last one, a later event drives and this one is
 * acked; otherwise the state's next action is performed — exactly one per delivery, and its
 * result is appended, which delivers the next event. A crash anywhere leaves the last event
 * unacked, so it is redelivered and the same action is taken again; the expected-sequence
 * guard and the decider's duplicate rules make the repeat harmless.
 *
 * One exception saves a round trip on every request job, and it is the engine's alone (the
 * decider knows nothing of it): the delivery of ExecutionQueued that starts it also sends its first
 * attempt, and says so on ExecutionStarted (`first_attempt_by: "starter"`, docs/events.md), whose
 * own delivery then leaves the attempt alone. That message stays unacked until the attempt is
 * recorded; if it comes back, the execution already started, its handler takes the send over
 * (starterSend).
 */
export class ExecutionEngine {
  /** Executions in flight on this replica, as last written: most deliveries need no read-back. */
  private readonly cache = new Map<string, LoadedExecution>();
  /**
   * Executions dropped from the cache (ended or parked) and the position they were dropped at,
   * remembered briefly so a late `remember` of the same position cannot bring them back.
   */
  private readonly released = new Map<string, number>();
  /** Slot acquisitions in progress per job (see oneAtATime). */
  private readonly chains = new Map<string, Promise<void>>();
  /**
   * Handlers in progress on this replica: per execution, the position of the event each one
   * acts from (a re-drive acts from the latest, whatever it is: DRIVE_POSITION). While one holds
   * an execution, the cache may be ahead of what that handler will manage to make durable (its
   * append can still fail), and the message it holds may be the only driver (the starter's
   * ExecutionQueued): see mayProceed.
   */
  private readonly holders = new Map<string, number[]>();

  /** The connection epoch the cache was built in. */
  private epoch = 0;

  constructor(
    private readonly deps: EngineDeps,
    private readonly cacheLimit = 20_000,
  ) {
    this.epoch = deps.connectionEpoch?.() ?? 0;
  }

  /**
   * Drops every view built before the broker connection last dropped: a delivery judged stale
   * against an event the broker lost in its crash would be acked, and the execution then has no
   * driver at all (what the fault run found: ExecutionQueued's redelivery acked after a restart).
   */
  private forgetIfReconnected(): void {
    const now = this.deps.connectionEpoch?.() ?? 0;
    if (now === this.epoch) return;
    this.epoch = now;
    this.cache.clear();
    this.released.clear();
  }

  /** How many executions this replica holds in memory: in flight only (parked ones are dropped). */
  get cachedExecutions(): number {
    return this.cache.size;
  }

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
    this.forgetIfReconnected();
    // Checked and counted before anything is awaited: two deliveries that arrive together see each other.
    if (!this.mayProceed(identity.executionId, event.position)) return handBack();
    return this.holding(identity.executionId, event.position, async () => {
      const known = this.known(event, msg.seq);
      if (known === 'stale') return ack();
      const loaded = known ?? (await this.deps.store.load(identity.executionId));
      if (msg.seq < loaded.lastSeq) {
        // Read back because someone else wrote (a resume, another replica): keep the view, so the
        // delivery of the newer event that is on its way needs no second read.
        // Not when it is ended or parked: nothing would come to drop it again.
        if (!known && !['none', 'park'].includes(nextAction(loaded.state, this.deps.now().toISOString()).type)) this.remember(loaded);
        return ack();
      }
      return this.advance(identity, loaded, ctx, event);
    });
  }

  /**
   * Re-drives an execution that may have lost its driver (a DriveExecution command of the
   * sweeper, docs/recovery.md): loads it from the stream and performs its next action exactly as
   * a delivery of its last event would, sending the first attempt of a starter-sent execution
   * too (the ExecutionQueued delivery that owned that send is gone). A needless re-drive is
   * harmless: the decider's rules and the expected-sequence guard ignore a repeat. A 'wait'
   * answers a delayed nak, so the command itself then drives the execution at its due time.
   */
  async drive(identity: ExecutionIdentity, ctx: MessageContext): Promise<Disposition> {
    this.forgetIfReconnected();
    if (this.isHeld(identity.executionId)) return handBack();
    return this.holding(identity.executionId, DRIVE_POSITION, async () => {
      // The stream is the truth here: the cache is what may have gone wrong.
      this.cache.delete(identity.executionId);
      const loaded = await this.deps.store.load(identity.executionId);
      if (loaded.events.length === 0) return ack();
      // No delivery to leave the first attempt to: a starter-sent one is sent from here.
      return this.advance(identity, loaded, ctx, null);
    });
  }

  /** Whether a handler of this replica is advancing the execution right now. */
  isHeld(executionId: string): boolean {
    return this.holders.has(executionId);
  }

  /**
   * The rule of docs/recovery.md. A delivery of an event at or before a position a handler here
   * acts from is handed back (a delayed nak), never acked nor acted on: acked as stale on the
   * cached view, it could drop the only driver (the handler may still fail its append, and its
   * nak may be lost with a NATS restart); acted on, it would repeat the holder's request. It is
   * judged again once the holder settled. A newer event is handled: it is durable (it was
   * delivered), and the holder acts on an older view, which the expected-sequence guard covers.
   * Ordinary traffic never waits: the only newer event delivered while a handler runs is the
   * next one (ExecutionStarted while its starter sends, the event the holder just appended).
   */
  private mayProceed(executionId: string, position: number): boolean {
    const held = this.holders.get(executionId);
    return !held || held.every((p) => p < position);
  }

  /** Runs one handler of `executionId`, counted in `holders`; a failure forgets the cached view. */
  private async holding(executionId: string, position: number, task: () => Promise<Disposition>): Promise<Disposition> {
    const held = this.holders.get(executionId);
    if (held) held.push(position);
    else this.holders.set(executionId, [position]);
    const epoch = this.deps.connectionEpoch?.() ?? 0;
    try {
      const disposition = await task();
      // The connection dropped while this ran: what it appended may have died with the server,
      // and an ack sent now could land on a server that lost it. Judged again once reconnected.
      if (disposition.type === 'ack' && (this.deps.connectionEpoch?.() ?? 0) !== epoch) return handBack();
      return disposition;
    } catch (error) {
      // The append that failed may or may not be in the stream: the next delivery reads it back.
      this.cache.delete(executionId);
      throw error;
    } finally {
      const left = this.holders.get(executionId) ?? [];
      left.splice(left.indexOf(position), 1);
      if (left.length === 0) this.holders.delete(executionId);
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
    // The appended events can be delivered (and handled) before the append call returns here: a
    // release at or after this position, or a newer view, wins over this one.
    const released = this.released.get(id);
    if (released !== undefined && released >= loaded.position) return;
    const held = this.cache.get(id);
    if (held && held.position > loaded.position) return;
    // Ended executions stay until their last event comes back (the 'none' action drops them):
    // otherwise the deliveries of the final events would each read the whole history again.
    this.cache.delete(id);
    this.cache.set(id, loaded);
    // Map iteration order is insertion order: the first key is the least recently written.
    if (this.cache.size > this.cacheLimit) this.cache.delete(this.cache.keys().next().value!);
  }

  /** Runs `task` after every earlier task of the same key has settled (a promise chain per key). */
  private oneAtATime<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.chains.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return result;
  }

  private release(executionId: string, position: number): void {
    this.cache.delete(executionId);
    this.released.delete(executionId);
    this.released.set(executionId, position);
    // Only the race between an append and its own delivery needs this: a short memory is enough.
    if (this.released.size > RELEASED_LIMIT) this.released.delete(this.released.keys().next().value!);
  }

  /** Performs the next action of `loaded`, delivered as `delivered` (null: a re-drive). */
  private async advance(identity: ExecutionIdentity, loaded: LoadedExecution, ctx: MessageContext, delivered: ExecutionEvent | null): Promise<Disposition> {
    const now = this.deps.now();
    const action = nextAction(loaded.state, now.toISOString());
    const run = (command: Parameters<ExecutionStore['execute']>[1]) => this.appendFrom(identity, loaded, command);
    switch (action.type) {
      case 'none': {
        this.release(identity.executionId, loaded.position);
        await this.afterEnd(identity, loaded.state, loaded.events.some((e) => e.type === 'ExecutionParked'));
        // The terminal event is the last one: its delivery issues the success/failure callback,
        // acked only once the command is stored.
        const callback = callbackFor(loaded.events);
        if (callback) await this.deps.requestCallback(callback);
        return ack();
      }
      case 'wait':
        // A durable timer: the message stays unacked and JetStream delivers it again at `until`.
        return nakAfter(Date.parse(action.until) - now.getTime());
      case 'start': {
        if (loaded.state.status !== 'queued') return ack();
        const cap = loaded.state.job.max_concurrent_executions ?? 0;
        if (cap > 0) {
          // Over the cap the execution stays queued, holding no message: the release of a slot starts it.
          // Deliveries arrive in stream order but are handled concurrently: taking slots one job at
          // a time, in the order the deliveries came, keeps admission first-in first-out.
          const queuedAt = new Date(loaded.state.queuedAt);
          // A queued execution's only event is ExecutionQueued: lastSeq is its stream sequence.
          const queueSeq = loaded.lastSeq;
          const slot = await this.oneAtATime(identity.jobId, () => this.deps.workflows.slots.acquire({ ...identity, queuedAt, queueSeq, cap }));
          await Promise.all(slot.alsoAdmitted.map((h) => this.startAdmitted(h)));
          if (!slot.admitted) return ack();
        }
        // Request kinds: this delivery goes on to send the first attempt, so no JetStream round
        // trip stands between the start and the request.
        const start = await this.startCommand(loaded.state.job, identity.jobId, now, { byStarter: true });
        const started = await run(() => start);
        // A stale view (a withdrawn run's own message, due at its slot) took a slot it will never use.
        if (cap > 0 && 'ignored' in started && started.loaded.state.status === 'withdrawn') await this.releaseSlot(identity, cap);
        // Also when the start was already there: this message came back because whoever started
        // from it died or handed it back before the attempt was recorded.
        const first = starterSend(started.loaded, now);
        if (first) return this.send(identity, started.loaded, first, ctx);
        return ack();
      }
      case 'finish':
        if (action.persistContext) await this.deps.workflows.context.merge(identity.jobId, identity.workspaceId, action.persistContext);
        await run(() => ({ type: 'FinishExecution', now: now.toISOString() }));
        return ack();
      case 'start_step': {
        // extract_to_context of the step before is stored first; a repeat after a crash writes the same values again.
        if (action.persistContext) await this.deps.workflows.context.merge(identity.jobId, identity.workspaceId, action.persistContext);
        const token = action.step.type === 'http' ? undefined : mintParkToken(identity.executionId, action.step.id, this.deps.workflows.sealer).park;
        await run(() => ({ type: 'StartStep', now: now.toISOString(), ...(token ? { token } : {}) }));
        return ack();
      }
      case 'park':
        // Parked executions hold no message and no memory: their timeout is a row the scheduler
        // fires as a Wake, and whoever resumes them appends events this replica reads back then.
        await this.deps.workflows.timers.schedule({ ...identity, dueAt: new Date(action.until) });
        this.release(identity.executionId, loaded.position);
        return ack();
      case 'settle':
        await run(() => ({ type: 'SettleStep', now: now.toISOString() }));
        return ack();
      case 'wake':
        await run(() => ({ type: 'Wake', now: now.toISOString() }));
        return ack();
      case 'send':
        // The starter sends this one from the ExecutionQueued delivery (see the class comment).
        if (delivered?.type === 'ExecutionStarted' && delivered.data.first_attempt_by === 'starter' && action.attemptNumber === 1) return ack();
        return this.send(identity, loaded, action, ctx);
    }
  }

  /**
   * Decides `command` against `loaded` (the view this delivery acts on), appends, and keeps the
   * result in memory. A decision the store cannot encode (docs/third-party-data.md) fails the
   * execution with a clear code instead: throwing would redeliver the message, and a redelivered
   * send sends the request again, past max_attempts, for good.
   */
  private async appendFrom(identity: ExecutionIdentity, loaded: LoadedExecution, command: Parameters<ExecutionStore['execute']>[1]): Promise<AppendResult> {
    let result: AppendResult;
    const epoch = this.deps.connectionEpoch?.() ?? 0;
    try {
      result = await this.deps.store.execute(identity, command, { now: this.deps.now, loaded });
    } catch (thrown) {
      // A RangeError out of the decider (a stack overflow on a value, an invalid time) is as
      // deterministic as an encoding failure: deciding again cannot help either.
      const error = thrown instanceof RangeError ? new UnstorableEventError('the decision', `deciding it failed (${thrown.message})`, thrown) : thrown;
      if (!(error instanceof UnstorableEventError)) throw error;
      const attempted = command(loaded.state);
      if (attempted.type === 'FailExecution') throw error;
      const failure = unstorableFailure(attempted, error);
      this.deps.logger.warn('a decision could not be stored: the execution fails', { execution_id: identity.executionId, code: failure.code, reason: error.message });
      result = await this.deps.store.execute(identity, () => ({ type: 'FailExecution', error: failure }), { now: this.deps.now, loaded });
    }
    // Acknowledged across a reconnect: maybe lost with the server's crash, so not kept.
    if ((this.deps.connectionEpoch?.() ?? 0) === epoch) this.remember(result.loaded);
    return result;
  }

  /** Sends one attempt of a step (an http step, or a request job's request) and records its result. */
  private async send(identity: ExecutionIdentity, loaded: LoadedExecution, action: Extract<NextAction, { type: 'send' }>, ctx: MessageContext): Promise<Disposition> {
    const { attempt, responseBody, parsedBody } = await performAttempt(this.deps, {
      workspaceId: identity.workspaceId,
      executionId: identity.executionId,
      step: action.step,
      number: action.attemptNumber,
      request: action.request,
      timeoutMs: action.timeoutMs,
      signal: ctx.signal,
    });
    // Our own shutdown cut the request short: hand the message back rather than record a
    // failure the target never caused. The next delivery repeats the attempt.
    if (ctx.signal.aborted) throw new Error('shutting down: attempt handed back');
    // responseBody is storable already (responseBodiesOf); parsedBody is only read, and the
    // decider makes what it renders from it storable. The attempt carries target-sent text too.
    const command: ExecutionCommand = {
      type: 'RecordAttempt',
      attempt: storableAttempt(attempt),
      responseBody,
      ...(parsedBody !== undefined ? { parsedBody } : {}),
      now: this.deps.now().toISOString(),
      jitter: this.deps.random(),
    };
    const outcome = await this.appendFrom(identity, loaded, () => command);
    if ('ignored' in outcome) this.deps.logger.debug('attempt result ignored', { execution_id: identity.executionId, reason: outcome.ignored });
    return ack();
  }

  /** An ended execution frees its concurrency slot (starting whoever is next) and its timer. */
  private async afterEnd(identity: ExecutionIdentity, state: ExecutionState, parkedEver: boolean): Promise<void> {
    if (state.status !== 'succeeded' && state.status !== 'failed') return;
    const cap = state.job.max_concurrent_executions ?? 0;
    if (cap > 0) await this.releaseSlot(identity, cap);
    if (parkedEver) await this.deps.workflows.timers.cancel(identity.executionId);
  }

  /** Frees the execution's concurrency slot and starts whoever it admits. */
  private async releaseSlot(holder: SlotHolder, cap: number): Promise<void> {
    const next = await this.deps.workflows.slots.release(holder.executionId, holder.jobId, cap);
    await Promise.all(next.map((h) => this.startAdmitted(h)));
  }

  /** StartExecution, with the job's context store as the starting context of a step-driven execution. */
  private async startCommand(job: JobSnapshot, jobId: string, now: Date, opts: { byStarter: boolean }): Promise<ExecutionCommand> {
    const base = { type: 'StartExecution', now: now.toISOString(), uuid: newExecutionUuid() } as const;
    if (isStepDriven(job)) return { ...base, context: await this.deps.workflows.context.seed(jobId) };
    return opts.byStarter ? { ...base, firstAttemptByStarter: true } : base;
  }

  /** Starts an execution admitted by a slot release; the decider ignores a start of one already started. */
  private async startAdmitted(holder: SlotHolder): Promise<void> {
    const loaded = await this.deps.store.load(holder.executionId);
    // Withdrawn while it waited in line: the slot passes on to the next one.
    if (loaded.state.status === 'withdrawn') return this.releaseSlot(holder, loaded.state.job.max_concurrent_executions ?? 0);
    if (loaded.state.status !== 'queued') return;
    // Started from another execution's delivery: the ExecutionStarted delivery sends the first attempt.
    const start = await this.startCommand(loaded.state.job, holder.jobId, this.deps.now(), { byStarter: false });
    await this.deps.store.execute(holder, () => start, {
      now: this.deps.now,
      loaded,
    });
  }
}

const RELEASED_LIMIT = 4096;
/**
 * Redelivery delay of a delivery handed back because another handler holds its execution: by
 * then that handler has usually settled, and the delivery is judged on what it made durable.
 */
export const HELD_HAND_BACK_MS = 1_000;
const handBack = (): Disposition => nakAfter(HELD_HAND_BACK_MS);
/** The position a re-drive holds an execution at: every delivery waits for it. */
const DRIVE_POSITION = Number.MAX_SAFE_INTEGER;

/** An attempt record in its storable form: its preview, headers and messages carry what the target sent. */
const storableAttempt = (attempt: AttemptRecord): AttemptRecord => storableValue(attempt) as AttemptRecord;

/**
 * The failure recorded when a decision cannot be stored: `unstorable_response` for the result of
 * an attempt (its response, or what extraction and the output template made of it), else
 * `unstorable_event`.
 */
function unstorableFailure(command: ExecutionCommand, error: UnstorableEventError): ExecutionError {
  if (command.type === 'RecordAttempt') {
    const a = command.attempt;
    const answered = a.statusCode === null ? a.status : `HTTP ${a.statusCode}`;
    return {
      code: 'unstorable_response',
      message: `attempt ${a.number} (${answered}, ${a.latencyMs} ms) got a response that cannot be recorded (${error.message}); the execution fails rather than send the request again`,
    };
  }
  return { code: 'unstorable_event', message: `${command.type} could not be recorded (${error.message}); the execution fails rather than retry it forever` };
}
/**
 * The first attempt an execution's starter sends, or null: the execution was started with
 * `first_attempt_by: "starter"` and no attempt is recorded yet. Asked by the delivery of
 * ExecutionQueued right after the start — and again if that delivery comes back (its handler died
 * or handed it back), which then takes the send over. Only that message drives it: it stays
 * unacked until the attempt is recorded.
 */
function starterSend(loaded: LoadedExecution, now: Date): Extract<NextAction, { type: 'send' }> | null {
  const start = loaded.events.find((e) => e.type === 'ExecutionStarted');
  if (start?.type !== 'ExecutionStarted' || start.data.first_attempt_by !== 'starter') return null;
  const action = nextAction(loaded.state, now.toISOString());
  return action.type === 'send' && action.attemptNumber === 1 ? action : null;
}

const EMPTY: LoadedExecution = { state: initialState(), events: [], lastSeq: 0, position: 0 };
const extend = (loaded: LoadedExecution, event: ExecutionEvent, seq: number): LoadedExecution => ({
  state: evolve(loaded.state, event),
  events: [...loaded.events, event],
  lastSeq: seq,
  position: event.position,
});
