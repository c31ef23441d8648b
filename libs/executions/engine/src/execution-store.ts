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
import { ConcurrencyConflict, JetStreamEventStore } from '@trigrun/messaging';
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

  constructor(js: JetStreamClient, jsm: JetStreamManager, namespace: string) {
    this.subjects = executionSubjects(namespace);
    this.store = new JetStreamEventStore(js, jsm, this.subjects.stream);
  }

  async load(executionId: string): Promise<LoadedExecution> {
    const slice = await this.store.read(this.subjects.forExecution(executionId));
    const events = slice.records.map((r) => decodeEvent(r.data));
    return { state: events.reduce(evolve, initialState()), events, lastSeq: slice.lastSeq, position: events.length };
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
    const appended: ExecutionEvent[] = [];
    let lastSeq = loaded.lastSeq;
    let position = loaded.position;
    for (const e of events) {
      position++;
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
      try {
        lastSeq = await this.store.append(subject, encoder.encode(JSON.stringify(envelope)), {
          // The position makes the id deterministic: a retried publish of the same decision is dropped.
          msgId: `${identity.executionId}:${position}`,
          expectedLastSeq: lastSeq,
          headers: { [EVENT_TYPE_HEADER]: e.type },
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
}

export const newExecutionUuid = (): string => randomUUID();
