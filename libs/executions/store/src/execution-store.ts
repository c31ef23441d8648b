import { randomUUID } from 'node:crypto';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import {
  EVENT_SCHEMA_VERSION,
  EVENT_TYPE_HEADER,
  type ExecutionEvent,
  executionSubjects,
  type NewExecutionEvent,
  parseExecutionEvent,
} from '@trigrun/execution-contracts';
import {
  type Decision,
  type ExecutionCommand,
  type ExecutionIdentity,
  type ExecutionState,
  type IgnoreCode,
  decide,
  evolve,
  initialState,
  isIgnore,
} from '@trigrun/execution-domain';
import { ConcurrencyConflict, JetStreamEventStore, type Messaging, jetStreamManagerWithin, jetStreamWithin } from '@trigrun/messaging';
import { newId } from '@trigrun/util';

export interface LoadedExecution {
  readonly state: ExecutionState;
  readonly events: readonly ExecutionEvent[];
  /** Stream sequence of the last event: the expected sequence of the next append. */
  readonly lastSeq: number;
  readonly position: number;
}

export type AppendResult =
  | { readonly appended: ExecutionEvent[]; readonly loaded: LoadedExecution }
  | { readonly ignored: string; readonly code?: IgnoreCode; readonly loaded: LoadedExecution };

/**
 * An event of a decision that cannot be stored as it is: its JSON cannot be written (nesting too
 * deep for JSON.stringify, a value JSON has no form for) or is larger than a message may be.
 * Nothing of the decision was appended. Retrying cannot help, so the engine records a failure
 * instead (`unstorable_response`), never a redelivery that would send the request again.
 */
export class UnstorableEventError extends Error {
  constructor(
    readonly eventType: string,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(`${eventType} cannot be stored: ${reason}`, { cause });
    this.name = 'UnstorableEventError';
  }
}

/** Room left in a message for the headers (msg id, expected sequence, event type). */
const HEADER_ALLOWANCE_BYTES = 4 * 1024;
/** NATS's default max_payload, for a connection that has not told its server's yet. */
const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const decodeEvent = (data: Uint8Array): ExecutionEvent => parseExecutionEvent(JSON.parse(decoder.decode(data)));

/**
 * The generic runner of the execution decider: load → evolve → decide → append with the
 * expected last sequence. On a conflict it reloads and decides again, a bounded number of times.
 */
export class ExecutionStore {
  private readonly store: JetStreamEventStore;
  private readonly subjects: ReturnType<typeof executionSubjects>;

  constructor(
    private readonly js: JetStreamClient,
    jsm: JetStreamManager,
    namespace: string,
  ) {
    this.subjects = executionSubjects(namespace);
    this.store = new JetStreamEventStore(js, jsm, this.subjects.stream);
  }

  /** The largest event this connection's server takes (its max_payload, less room for headers). */
  private get maxEventBytes(): number {
    const info = (this.js as { nc?: { info?: { max_payload?: number } } }).nc?.info;
    return (info?.max_payload ?? DEFAULT_MAX_PAYLOAD_BYTES) - HEADER_ALLOWANCE_BYTES;
  }

  async load(executionId: string): Promise<LoadedExecution> {
    const slice = await this.store.read(this.subjects.forExecution(executionId));
    const events = slice.records.map((r) => decodeEvent(r.data));
    return { state: events.reduce(evolve, initialState()), events, lastSeq: slice.lastSeq, position: events.length };
  }

  /** The first `count` events of an execution (its ExecutionQueued, then what followed), read without a consumer. */
  async opening(executionId: string, count: number): Promise<ExecutionEvent[]> {
    const records = await this.store.opening(this.subjects.forExecution(executionId), count);
    return records.map((r) => decodeEvent(r.data));
  }

  /**
   * Decides `command` against the latest state and appends the result. `command` is a function
   * so that it is rebuilt from fresh state after a conflict.
   */
  async execute(
    identity: ExecutionIdentity,
    command: (state: ExecutionState) => ExecutionCommand,
    opts: { now: () => Date; maxConflicts?: number; loaded?: LoadedExecution },
  ): Promise<AppendResult> {
    let loaded = opts.loaded ?? (await this.load(identity.executionId));
    for (let conflicts = 0; ; conflicts++) {
      const decision: Decision = decide(command(loaded.state), loaded.state);
      if (isIgnore(decision)) return { ignored: decision.reason, ...(decision.code ? { code: decision.code } : {}), loaded };
      try {
        const { appended, lastSeq, cut } = await this.append(identity, loaded, decision, opts.now());
        // Another writer completed the rest of this decision (the engine's `settle` repair writes
        // the same events): the command took effect; the stream is the truth for what follows.
        if (cut) return { appended, loaded: await this.load(identity.executionId) };
        return {
          appended,
          loaded: { state: appended.reduce(evolve, loaded.state), events: [...loaded.events, ...appended], lastSeq, position: loaded.position + appended.length },
        };
      } catch (error) {
        if (!(error instanceof ConcurrencyConflict) || conflicts >= (opts.maxConflicts ?? 5)) throw error;
        loaded = await this.load(identity.executionId);
      }
    }
  }

  private async append(identity: ExecutionIdentity, loaded: LoadedExecution, events: readonly NewExecutionEvent[], now: Date) {
    const subject = this.subjects.forExecution(identity.executionId);
    // Every event is encoded before the first is appended: a decision is stored whole or not at all
    // when one of its events cannot be.
    const encoded = events.map((e, i) => this.encode(identity, e, loaded.position + i + 1, now));
    const appended: ExecutionEvent[] = [];
    let lastSeq = loaded.lastSeq;
    for (const { envelope, bytes } of encoded) {
      try {
        lastSeq = await this.store.append(subject, bytes, {
          // The position makes the id deterministic: a retried publish of the same decision is dropped.
          msgId: `${identity.executionId}:${envelope.position}`,
          expectedLastSeq: lastSeq,
          headers: { [EVENT_TYPE_HEADER]: envelope.type },
          workspaceId: identity.workspaceId,
        });
      } catch (error) {
        if (error instanceof ConcurrencyConflict && appended.length > 0) return { appended, lastSeq, cut: true };
        throw error;
      }
      appended.push(envelope);
    }
    return { appended, lastSeq, cut: false };
  }

  private encode(identity: ExecutionIdentity, e: NewExecutionEvent, position: number, now: Date): { envelope: ExecutionEvent; bytes: Uint8Array } {
    const envelope = {
      type: e.type,
      version: EVENT_SCHEMA_VERSION,
      id: newId('evt', now.getTime()),
      execution_id: identity.executionId,
      job_id: identity.jobId,
      workspace_id: identity.workspaceId,
      occurred_at: now.toISOString(),
      position,
      data: e.data,
    } as ExecutionEvent;
    let bytes: Uint8Array;
    try {
      bytes = encoder.encode(JSON.stringify(envelope));
    } catch (error) {
      // RangeError: nested too deep for JSON.stringify; TypeError: a BigInt or a cycle.
      if (error instanceof RangeError || error instanceof TypeError) throw new UnstorableEventError(e.type, `its JSON cannot be written (${error.message})`, error);
      throw error;
    }
    const limit = this.maxEventBytes;
    if (bytes.length > limit) throw new UnstorableEventError(e.type, `it is ${bytes.length} bytes as JSON, over the ${limit} bytes a message may hold`);
    return { envelope, bytes };
  }
}

export const newExecutionUuid = (): string => randomUUID();

/**
 * The store as a request path opens it (the api-gateway's run-now and replay, trigger-ingest's
 * resume links and decisions): every JetStream call gives up within REQUEST_PATH_TIMEOUT_MS and
 * the request answers 503 rather than wait (docs/failure-behaviour.md). Consumers and loops,
 * which retry by redelivery, use the connection's own bound: `new ExecutionStore(js, jsm, ns)`.
 */
export async function requestPathExecutionStore(messaging: Messaging, namespace: string): Promise<ExecutionStore> {
  return new ExecutionStore(jetStreamWithin(messaging), await jetStreamManagerWithin(messaging), namespace);
}
