import type { JsMsg } from '@nats-io/jetstream';
import { EVENT_SCHEMA_VERSION, type ExecutionEvent, type JobSnapshot, type NewExecutionEvent } from '@trigrun/execution-contracts';
import { type ExecutionCommand, type ExecutionIdentity, type ExecutionState, decide, evolve, initialState, isIgnore } from '@trigrun/execution-domain';
import type { GuardedHttpClient, OutboundResult } from '@trigrun/http-client';
import type { MessageContext } from '@trigrun/messaging';
import { ExecutionEngine, HELD_HAND_BACK_MS, type EngineDeps } from './engine';
import type { AppendResult, ExecutionStore, LoadedExecution } from '@trigrun/execution-store';
import { NO_SECRETS, NO_WORKFLOW_PORTS } from './testing';

/**
 * The engine rule of docs/recovery.md: a delivery for an execution that another handler of this
 * replica holds is never acked on a view that handler may still fail to make durable. The store
 * here is the decider over an in-memory history, with a gate in front of each append.
 */
const T0 = Date.parse('2026-03-15T10:00:00.000Z');
const identity: ExecutionIdentity = { executionId: 'exec_01', jobId: 'job_1', workspaceId: 'ws_1' };

class MemoryStore {
  readonly events: ExecutionEvent[] = [];
  readonly seqs: number[] = [];
  private seq = 100;
  /** Awaited before each append; a rejection fails that append (nothing is written). */
  gate: (events: readonly NewExecutionEvent[]) => Promise<void> = async () => undefined;

  /** How many times the engine read the history back (the store's own reads are not counted). */
  loads = 0;

  async load(): Promise<LoadedExecution> {
    this.loads++;
    return this.read();
  }

  private read(): LoadedExecution {
    return { state: this.events.reduce(evolve, initialState()), events: [...this.events], lastSeq: this.seqs.at(-1) ?? 0, position: this.events.length };
  }

  async execute(_id: ExecutionIdentity, command: (state: ExecutionState) => ExecutionCommand, opts: { loaded?: LoadedExecution }): Promise<AppendResult> {
    let loaded = opts.loaded ?? this.read();
    for (;;) {
      const decision = decide(command(loaded.state), loaded.state);
      if (isIgnore(decision)) return { ignored: decision.reason, loaded };
      if (loaded.lastSeq !== (this.seqs.at(-1) ?? 0)) {
        loaded = this.read();
        continue;
      }
      await this.gate(decision);
      if (loaded.lastSeq !== (this.seqs.at(-1) ?? 0)) {
        loaded = this.read();
        continue;
      }
      const appended = decision.map((e, i) => this.envelope(e, loaded.position + i + 1));
      for (const e of appended) {
        this.events.push(e);
        this.seqs.push(++this.seq);
      }
      return { appended, loaded: this.read() };
    }
  }

  private envelope(e: NewExecutionEvent, position: number): ExecutionEvent {
    return {
      ...e,
      version: EVENT_SCHEMA_VERSION,
      id: `evt_${position}`,
      execution_id: identity.executionId,
      job_id: identity.jobId,
      workspace_id: identity.workspaceId,
      occurred_at: new Date(T0).toISOString(),
      position,
    } as ExecutionEvent;
  }

  /** The delivery of the event at `position`, as the consumer hands it over. */
  message(position: number): JsMsg {
    return { data: new TextEncoder().encode(JSON.stringify(this.events[position - 1])), seq: this.seqs[position - 1], info: { deliveryCount: 1 } } as unknown as JsMsg;
  }
}

const job: JobSnapshot = {
  name: 'held',
  kind: 'one_time',
  request: { url: 'http://target.test/', method: 'GET', headers: {}, timeout_seconds: 30, success_statuses: [200] },
  retry_policy: { max_attempts: 1, retry_on_statuses: [] },
};

function setup(connectionEpoch?: () => number) {
  const store = new MemoryStore();
  const sent: string[] = [];
  const http = {
    send: async (req: { url: string }): Promise<OutboundResult> => {
      sent.push(req.url);
      return { kind: 'response', status: 200, headers: {}, body: Buffer.from('ok'), truncated: false, latencyMs: 1, finalUrl: req.url, redirects: 0 } as OutboundResult;
    },
  } as unknown as GuardedHttpClient;
  const deps: EngineDeps = {
    store: store as unknown as ExecutionStore,
    http,
    ...NO_SECRETS,
    requestCallback: async () => undefined,
    workflows: NO_WORKFLOW_PORTS,
    now: () => new Date(T0),
    random: () => 0.5,
    logger: { warn: () => undefined, debug: () => undefined },
    connectionEpoch,
  };
  const ctx: MessageContext = { working: () => undefined, deliveryCount: 1, signal: new AbortController().signal };
  return { store, sent, deps, engine: new ExecutionEngine(deps), ctx };
}

async function queue(store: MemoryStore) {
  await store.execute(identity, () => ({ type: 'QueueExecution', identity, job, trigger: 'manual', scheduledFor: null, replayOf: null, triggerInput: null }), {});
}

/** A promise with its settle functions, and a flag saying whether something waits on it. */
function latch() {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setImmediate(r));
  if (!check()) throw new Error('condition never held');
};

describe('ExecutionEngine: a delivery while another handler holds the execution', () => {
  it('hands back, never acks, an earlier delivery that arrives while the starter is blocked in its AttemptRecorded append', async () => {
    const { store, engine, ctx, sent } = setup();
    await queue(store);
    const recordGate = latch();
    let recording = false;
    store.gate = async (events) => {
      if (events[0]?.type !== 'AttemptRecorded') return;
      recording = true;
      await recordGate.promise;
    };

    // The starter: appends ExecutionStarted, sends the first attempt, then blocks recording it.
    const starter = engine.handle(store.message(1), ctx);
    await until(() => recording);
    expect(store.events.map((e) => e.type)).toEqual(['ExecutionQueued', 'ExecutionStarted']);

    // The same ExecutionQueued comes back (a NATS restart redelivers it): the cache is at the
    // start, so it looks stale, yet it is the only driver of this execution.
    const duplicate = await engine.handle(store.message(1), ctx);
    expect(duplicate).toEqual({ type: 'nak', delayMs: HELD_HAND_BACK_MS });
    // ExecutionStarted's own delivery still leaves the send to the starter (nothing older to drop).
    expect(await engine.handle(store.message(2), ctx)).toEqual({ type: 'ack' });

    // The blocked append fails: the starter's message is nak'd (the consumer does that on a throw).
    recordGate.fail(new Error('append timed out'));
    await expect(starter).rejects.toThrow('append timed out');
    expect(engine.isHeld(identity.executionId)).toBe(false);

    // Its redelivery drives the execution on: the attempt is sent again and recorded.
    store.gate = async () => undefined;
    expect(await engine.handle(store.message(1), ctx)).toEqual({ type: 'ack' });
    expect(store.events.map((e) => e.type)).toEqual(['ExecutionQueued', 'ExecutionStarted', 'AttemptRecorded', 'ExecutionSucceeded']);
    expect(sent).toHaveLength(2);
  });

  it('hands back a second delivery of the event a handler is acting on, instead of sending its request again', async () => {
    const { store, engine, ctx, sent } = setup();
    await queue(store);
    // Started by someone else (a slot release): ExecutionStarted's delivery sends the first attempt.
    await store.execute(identity, () => ({ type: 'StartExecution', now: new Date(T0).toISOString(), uuid: 'u-1' }), {});
    const gate = latch();
    let recording = false;
    store.gate = async () => {
      recording = true;
      await gate.promise;
    };
    const sender = engine.handle(store.message(2), ctx);
    await until(() => recording);
    expect(sent).toHaveLength(1);
    expect(await engine.handle(store.message(2), ctx)).toEqual({ type: 'nak', delayMs: HELD_HAND_BACK_MS });
    expect(await engine.handle(store.message(1), ctx)).toEqual({ type: 'nak', delayMs: HELD_HAND_BACK_MS });
    expect(sent).toHaveLength(1);
    gate.open();
    expect(await sender).toEqual({ type: 'ack' });
    // Once nobody holds it, the old deliveries are judged as before: acked, nothing sent.
    expect(await engine.handle(store.message(2), ctx)).toEqual({ type: 'ack' });
    expect(await engine.handle(store.message(1), ctx)).toEqual({ type: 'ack' });
    expect(sent).toHaveLength(1);
    expect(store.events.map((e) => e.type)).toEqual(['ExecutionQueued', 'ExecutionStarted', 'AttemptRecorded', 'ExecutionSucceeded']);
  }, 10_000);

  it('still acks a stale delivery when no handler holds the execution', async () => {
    const { store, engine, ctx } = setup();
    await queue(store);
    expect(await engine.handle(store.message(1), ctx)).toEqual({ type: 'ack' });
    expect(store.events).toHaveLength(4);
    expect(await engine.handle(store.message(2), ctx)).toEqual({ type: 'ack' });
    expect(await engine.handle(store.message(1), ctx)).toEqual({ type: 'ack' });
    expect(store.events).toHaveLength(4);
  });
});

describe('ExecutionEngine: a broker that lost acknowledged appends in a crash', () => {
  it('judges a redelivery after a reconnect on the stream, not on the views from before it', async () => {
    let epoch = 0;
    const { store, engine, ctx, sent } = setup(() => epoch);
    await queue(store);
    expect(await engine.handle(store.message(1), ctx)).toEqual({ type: 'ack' });
    expect(store.events).toHaveLength(4);
    // nats-server killed right after acknowledging AttemptRecorded and ExecutionSucceeded: they
    // never reached its disk, and ExecutionQueued's ack was lost with them, so it comes back.
    store.events.splice(2);
    store.seqs.splice(2);
    epoch++;
    expect(await engine.handle(store.message(1), ctx)).toEqual({ type: 'ack' });
    expect(store.events.map((e) => e.type)).toEqual(['ExecutionQueued', 'ExecutionStarted', 'AttemptRecorded', 'ExecutionSucceeded']);
    expect(sent).toHaveLength(2);
  });

  it('hands its message back, keeping no view, when the connection dropped while its handler ran', async () => {
    let epoch = 0;
    const { store, engine, ctx, sent } = setup(() => epoch);
    await queue(store);
    store.gate = async (events) => {
      if (events[0]?.type === 'AttemptRecorded') epoch++;
    };
    // The append was acknowledged across the reconnect: an ack now could land on a restarted
    // server that lost it, so the message goes back to be judged again.
    expect(await engine.handle(store.message(1), ctx)).toEqual({ type: 'nak', delayMs: HELD_HAND_BACK_MS });
    store.gate = async () => undefined;
    store.events.splice(2);
    store.seqs.splice(2);
    expect(await engine.handle(store.message(1), ctx)).toEqual({ type: 'ack' });
    expect(store.events.map((e) => e.type)).toEqual(['ExecutionQueued', 'ExecutionStarted', 'AttemptRecorded', 'ExecutionSucceeded']);
    expect(sent).toHaveLength(2);
  });
});

describe('ExecutionEngine.drive', () => {
  it('sends the first attempt of a starter-sent execution whose ExecutionQueued message is gone', async () => {
    const { store, engine, ctx, sent } = setup();
    await queue(store);
    await store.execute(identity, () => ({ type: 'StartExecution', now: new Date(T0).toISOString(), uuid: 'u-1', firstAttemptByStarter: true }), {});
    // What a delivery of ExecutionStarted does: leaves the send to the starter.
    expect(await engine.handle(store.message(2), ctx)).toEqual({ type: 'ack' });
    expect(sent).toHaveLength(0);

    expect(await engine.drive(identity, ctx)).toEqual({ type: 'ack' });
    expect(sent).toHaveLength(1);
    // A needless re-drive never sends a second request: the ended execution only asks for its callback.
    expect(await engine.drive(identity, ctx)).toEqual({ type: 'ack' });
    expect(store.events.map((e) => e.type)).toEqual(['ExecutionQueued', 'ExecutionStarted', 'AttemptRecorded', 'ExecutionSucceeded']);
    expect(sent).toHaveLength(1);
  });

  it('hands a re-drive back while a handler of this replica holds the execution', async () => {
    const { store, engine, ctx } = setup();
    await queue(store);
    const gate = latch();
    let blocked = false;
    store.gate = async () => {
      blocked = true;
      await gate.promise;
    };
    const starter = engine.handle(store.message(1), ctx);
    await until(() => blocked);
    expect(await engine.drive(identity, ctx)).toEqual({ type: 'nak', delayMs: HELD_HAND_BACK_MS });
    store.gate = async () => undefined;
    gate.open();
    expect(await starter).toEqual({ type: 'ack' });
  });
});

describe('ExecutionEngine: its own cache and ordering (in-memory store)', () => {
  const types = (store: MemoryStore) => store.events.map((e) => e.type);

  it('runs a request job on its deliveries, in stream order, without reading the history back: 4 appends, 4 deliveries, 1 request', async () => {
    const { store, engine, ctx, sent } = setup();
    await queue(store);
    let deliveries = 0;
    for (let position = 1; position <= store.events.length; position++, deliveries++) {
      expect(await engine.handle(store.message(position), ctx)).toEqual({ type: 'ack' });
    }
    expect(types(store)).toEqual(['ExecutionQueued', 'ExecutionStarted', 'AttemptRecorded', 'ExecutionSucceeded']);
    expect(store.events[1].data).toMatchObject({ first_attempt_by: 'starter' });
    expect(deliveries).toBe(4);
    expect(store.loads).toBe(0);
    expect(sent).toHaveLength(1);
    // The end's delivery drops the view: nothing stays in memory for an ended execution.
    expect(engine.cachedExecutions).toBe(0);
  });

  it('acks a delivery behind its view as stale without a read, reads back once for an unknown one, and keeps no view of an ended execution', async () => {
    const { store, engine, ctx, sent } = setup();
    await queue(store);
    // Started elsewhere (a slot release): this replica first hears of it at ExecutionStarted.
    await store.execute(identity, () => ({ type: 'StartExecution', now: new Date(T0).toISOString(), uuid: 'u-1' }), {});
    expect(await engine.handle(store.message(2), ctx)).toEqual({ type: 'ack' });
    expect(store.loads).toBe(1);
    expect(sent).toHaveLength(1);
    expect(types(store)).toEqual(['ExecutionQueued', 'ExecutionStarted', 'AttemptRecorded', 'ExecutionSucceeded']);
    expect(engine.cachedExecutions).toBe(1);
    // Behind what this replica wrote: stale, no read.
    expect(await engine.handle(store.message(3), ctx)).toEqual({ type: 'ack' });
    expect(store.loads).toBe(1);
    // The last event extends the view it wrote; its 'none' releases it.
    expect(await engine.handle(store.message(4), ctx)).toEqual({ type: 'ack' });
    expect(store.loads).toBe(1);
    expect(engine.cachedExecutions).toBe(0);
    // Released: a late redelivery is judged on the stream, and does not bring the view back.
    expect(await engine.handle(store.message(3), ctx)).toEqual({ type: 'ack' });
    expect(store.loads).toBe(2);
    expect(engine.cachedExecutions).toBe(0);
    expect(sent).toHaveLength(1);
  });

  it('leaves the first attempt to the starter: the delivery of ExecutionStarted sends nothing, a redelivered ExecutionQueued takes the send over', async () => {
    const { store, deps, ctx, sent } = setup();
    await queue(store);
    await store.execute(identity, () => ({ type: 'StartExecution', now: new Date(T0).toISOString(), uuid: 'u-1', firstAttemptByStarter: true }), {});
    expect(store.events[1].data).toMatchObject({ first_attempt_by: 'starter' });
    const engine = new ExecutionEngine(deps);
    expect(await engine.handle(store.message(2), ctx)).toEqual({ type: 'ack' });
    expect(sent).toHaveLength(0);
    // Another replica (no view of it) gets ExecutionQueued back: the start is there, the attempt is not.
    const other = new ExecutionEngine(deps);
    expect(await other.handle(store.message(1), ctx)).toEqual({ type: 'ack' });
    expect(sent).toHaveLength(1);
    expect(types(store)).toEqual(['ExecutionQueued', 'ExecutionStarted', 'AttemptRecorded', 'ExecutionSucceeded']);
  });

  it('without the marker, the delivery of ExecutionStarted sends the first attempt', async () => {
    const { store, engine, ctx, sent } = setup();
    await queue(store);
    await store.execute(identity, () => ({ type: 'StartExecution', now: new Date(T0).toISOString(), uuid: 'u-1' }), {});
    expect(await engine.handle(store.message(2), ctx)).toEqual({ type: 'ack' });
    expect(sent).toHaveLength(1);
  });

  it('ends a request job whose request cannot be rendered with the start, sending nothing: 3 appends', async () => {
    const { store, engine, ctx, sent } = setup();
    await store.execute(
      identity,
      () => ({
        type: 'QueueExecution',
        identity,
        job: { ...job, request: { ...job.request!, url: 'http://target.test/{{nope}}' } },
        trigger: 'manual',
        scheduledFor: null,
        replayOf: null,
        triggerInput: null,
      }),
      {},
    );
    for (let position = 1; position <= store.events.length; position++) expect(await engine.handle(store.message(position), ctx)).toEqual({ type: 'ack' });
    expect(types(store)).toEqual(['ExecutionQueued', 'ExecutionStarted', 'ExecutionFailed']);
    expect(store.events[2].data).toEqual({ error: { code: 'template_error', message: 'unknown template variable "nope"' } });
    expect(sent).toHaveLength(0);
    expect(store.loads).toBe(0);
  });
});
