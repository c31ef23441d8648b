import type { AttemptRecord, ExecutionError, ExecutionTrigger, ExecutionVariables, JobSnapshot } from './model';

/** Data of each event type, schema version 1. A breaking change adds a version, never edits one. */
export interface ExecutionEventData {
  ExecutionQueued: {
    readonly job: JobSnapshot;
    readonly trigger: ExecutionTrigger;
    readonly scheduled_for: string | null;
    readonly replay_of: string | null;
    readonly trigger_input: unknown;
  };
  ExecutionStarted: { readonly variables: ExecutionVariables };
  /** step_id is null for request jobs; next_attempt_at is set when another attempt will follow. */
  AttemptRecorded: {
    readonly step_id: string | null;
    readonly attempt: AttemptRecord;
    readonly next_attempt_at: string | null;
    /** The rendered response_output_template of a successful attempt (becomes final_output). */
    readonly output?: unknown;
  };
  ExecutionSucceeded: { readonly final_output: unknown };
  ExecutionFailed: { readonly error: ExecutionError };
}

export type ExecutionEventType = keyof ExecutionEventData;
export const EXECUTION_EVENT_TYPES: readonly ExecutionEventType[] = [
  'ExecutionQueued',
  'ExecutionStarted',
  'AttemptRecorded',
  'ExecutionSucceeded',
  'ExecutionFailed',
];
export const EVENT_SCHEMA_VERSION = 1;

/** An event as the decider produces it: the shell adds the envelope. */
export type NewExecutionEvent = {
  [T in ExecutionEventType]: { readonly type: T; readonly data: ExecutionEventData[T] };
}[ExecutionEventType];

/** The envelope of SPEC §12, plus `position`: the event's 1-based place in its execution's history. */
export type ExecutionEvent = {
  [T in ExecutionEventType]: {
    readonly type: T;
    readonly version: number;
    readonly id: string;
    readonly execution_id: string;
    readonly job_id: string;
    readonly workspace_id: string;
    readonly occurred_at: string;
    readonly position: number;
    readonly data: ExecutionEventData[T];
  };
}[ExecutionEventType];

export type ExecutionEventOf<T extends ExecutionEventType> = Extract<ExecutionEvent, { type: T }>;
