import type {
  ApprovalDecision,
  AttemptRecord,
  ExecutionError,
  ExecutionTrigger,
  ExecutionVariables,
  JobSnapshot,
  StepStatus,
  StepType,
  WaitingReason,
} from './model';

/** Data of each event type, schema version 1. A breaking change adds a version, never edits one. */
export interface ExecutionEventData {
  ExecutionQueued: {
    readonly job: JobSnapshot;
    readonly trigger: ExecutionTrigger;
    readonly scheduled_for: string | null;
    readonly replay_of: string | null;
    readonly trigger_input: unknown;
  };
  /**
   * `context`: step-driven kinds only, the execution's context seeded from the job's store (docs/workflows.md).
   * `first_attempt_by: "starter"`: request kinds started from their ExecutionQueued delivery; the
   * starter sends the first attempt from that same delivery, so this event's own delivery does not.
   * Absent: this event's delivery sends it.
   */
  ExecutionStarted: { readonly variables: ExecutionVariables; readonly context?: Readonly<Record<string, unknown>>; readonly first_attempt_by?: 'starter' };
  /** `input`: what the step works on, rendered once — the request as sent (secret references unresolved) or the approval message. */
  StepStarted: { readonly step_id: string; readonly type: StepType; readonly index: number; readonly input: unknown };
  /** step_id is null for request jobs; next_attempt_at is set when another attempt will follow. */
  AttemptRecorded: {
    readonly step_id: string | null;
    readonly attempt: AttemptRecord;
    readonly next_attempt_at: string | null;
    /** The rendered response_output_template of a successful attempt (becomes final_output). */
    readonly output?: unknown;
  };
  /**
   * The step is done: `output` is its result (the parsed response body, the resume payload or the
   * decision), `extracted` what `extract` and `extract_to_context` read from it (merged into the
   * execution's context), `context_updates` the `extract_to_context` part as stored strings.
   */
  StepCompleted: {
    readonly step_id: string;
    readonly output: unknown;
    readonly extracted: Readonly<Record<string, unknown>>;
    readonly context_updates: Readonly<Record<string, string>>;
  };
  StepFailed: { readonly step_id: string; readonly status: Extract<StepStatus, 'failed' | 'rejected' | 'timed_out'>; readonly error: ExecutionError };
  /**
   * The execution waits on a token. Only the token's SHA-256 (`token_hash`, for verification) and
   * the token sealed under the master key (`token_sealed`, so an authorized reader can be shown
   * the URLs) are recorded — never the token itself. `expires_at`: the step's timeout or the
   * workflow's deadline, whichever is first.
   */
  ExecutionParked: {
    readonly step_id: string;
    readonly reason: WaitingReason;
    readonly token_hash: string;
    readonly token_sealed: { readonly ciphertext: string; readonly key_version: number };
    readonly expires_at: string;
    /** Approval steps: the rendered message shown to the reviewer. */
    readonly message?: string;
  };
  /** The wait ended: a resume call (`payload` = its JSON body), a decision, or the step's timeout. */
  ExecutionResumed: {
    readonly step_id: string;
    readonly via: 'resume' | 'approval' | 'timeout';
    readonly payload: unknown;
    readonly decision?: ApprovalDecision;
  };
  ExecutionSucceeded: { readonly final_output: unknown };
  ExecutionFailed: { readonly error: ExecutionError };
  /**
   * A run armed ahead of its schedule slot was taken back before the slot, because its job was
   * paused, deleted or changed (a changed job's slot is armed again with the new definition).
   * Terminal; the run never started and is not listed.
   */
  ExecutionWithdrawn: { readonly reason: WithdrawalReason };
}

export type WithdrawalReason = 'job_paused' | 'job_deleted' | 'job_changed';
export const WITHDRAWAL_REASONS: readonly WithdrawalReason[] = ['job_paused', 'job_deleted', 'job_changed'];

export type ExecutionEventType = keyof ExecutionEventData;
export const EXECUTION_EVENT_TYPES: readonly ExecutionEventType[] = [
  'ExecutionQueued',
  'ExecutionStarted',
  'AttemptRecorded',
  'StepStarted',
  'StepCompleted',
  'StepFailed',
  'ExecutionParked',
  'ExecutionResumed',
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionWithdrawn',
];
export const EVENT_SCHEMA_VERSION = 1;

/** An event as the decider produces it: the shell adds the envelope. */
export type NewExecutionEvent = {
  [T in ExecutionEventType]: { readonly type: T; readonly data: ExecutionEventData[T] };
}[ExecutionEventType];

/** The envelope of every event (docs/events.md), with `position`: the event's 1-based place in its execution's history. */
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
