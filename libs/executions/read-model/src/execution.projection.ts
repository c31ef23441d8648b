import type {
  AttemptRecord,
  ExecutionError,
  ExecutionEvent,
  ExecutionEventOf,
  ExecutionStatus,
  ExecutionTrigger,
  JobKind,
  StepStatus,
  StepType,
  WaitingReason,
} from '@trigrun/execution-contracts';
import { parkLinks } from '@trigrun/execution-store';

/** One step of a step-driven execution (docs/executions.md, "Step execution"). */
export interface StepExecutionView {
  readonly stepId: string;
  readonly type: StepType;
  readonly status: StepStatus;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** http steps: one per attempt. */
  readonly attempts: readonly AttemptRecord[];
  /** What the step worked on: the rendered request, the approval message, then the resume payload or decision. */
  readonly input: unknown;
  readonly output: unknown;
  readonly extracted: Readonly<Record<string, unknown>> | null;
  readonly error: ExecutionError | null;
}

/** The parking token sealed under the master key, as `ExecutionParked` carries it. */
export interface SealedParkToken {
  readonly ciphertext: string;
  readonly key_version: number;
}

/**
 * Why and on what the execution waits. The token is kept only sealed: the URLs of
 * `waiting_payload` are built at read time (`WaitingPayloadOf`), never stored.
 */
export interface WaitingView {
  readonly reason: WaitingReason;
  readonly stepId: string;
  readonly message: string | null;
  readonly tokenSealed: SealedParkToken;
  readonly expiresAt: string;
}

/**
 * Why the row missed an event: the projection could not apply it (a value PostgreSQL refuses, a
 * fold that threw) and went on with the next one rather than stall behind it. The last such
 * event, and how many were skipped in all.
 */
export interface ProjectionError {
  readonly code: 'projection_failed';
  readonly message: string;
  readonly event_type: string;
  readonly position: number;
  readonly skipped_events: number;
}

/** The projected shape of an execution, independent of storage. */
export interface ExecutionView {
  readonly id: string;
  readonly workspaceId: string;
  readonly jobId: string;
  readonly jobName: string;
  readonly kind: JobKind;
  /** `withdrawn`: a run armed ahead of its slot and taken back (ExecutionWithdrawn); its row is kept, never served. */
  readonly status: ExecutionStatus | 'withdrawn';
  readonly trigger: ExecutionTrigger;
  readonly scheduledFor: string | null;
  readonly queuedAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  /** Request jobs only; an http step's attempts live on its step. */
  readonly attempts: readonly AttemptRecord[];
  /** Step-driven kinds: every step of the job's snapshot, in order, seeded `pending` at queue time. */
  readonly stepExecutions: readonly StepExecutionView[];
  readonly triggerInput: unknown;
  /** Step-driven kinds: the in-memory context (seeded at start, then each step's `extracted` merged in). Not served by the API. */
  readonly context: Readonly<Record<string, unknown>> | null;
  /** Set exactly while `status` is `waiting`. */
  readonly waiting: WaitingView | null;
  readonly finalOutput: unknown;
  readonly error: ExecutionError | null;
  readonly replayOf: string | null;
  /** Set once an event of this execution could not be applied (and was skipped). */
  readonly projectionError: ProjectionError | null;
  readonly position: number;
}

/**
 * The projection as a pure fold: `project(view, event)`. The storage shell applies it only to
 * the event right after the row's checkpoint (position), so redelivery changes nothing.
 *
 * Step events are applied defensively: an event naming a step the view does not hold (no seed,
 * or a StepCompleted/StepFailed without its StepStarted) creates that step rather than failing.
 */
export function project(view: ExecutionView | null, e: ExecutionEvent): ExecutionView | null {
  if (e.type === 'ExecutionQueued') {
    if (view) return view;
    return {
      id: e.execution_id,
      workspaceId: e.workspace_id,
      jobId: e.job_id,
      jobName: e.data.job.name,
      kind: e.data.job.kind,
      status: 'queued',
      trigger: e.data.trigger,
      scheduledFor: e.data.scheduled_for,
      queuedAt: e.occurred_at,
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      attempts: [],
      stepExecutions: (e.data.job.steps ?? []).map((step) => newStep(step.id, step.type)),
      triggerInput: e.data.trigger_input ?? null,
      context: null,
      waiting: null,
      finalOutput: null,
      error: null,
      replayOf: e.data.replay_of,
      projectionError: null,
      position: e.position,
    };
  }
  if (!view) return null;
  const at = { position: e.position };
  switch (e.type) {
    case 'ExecutionStarted':
      return { ...view, ...at, status: 'running', startedAt: e.occurred_at, context: e.data.context ? { ...e.data.context } : view.context };
    case 'AttemptRecorded': {
      const stepId = e.data.step_id ?? null;
      if (stepId === null) return { ...view, ...at, attempts: [...view.attempts, e.data.attempt] };
      return {
        ...view,
        ...at,
        stepExecutions: withStep(view.stepExecutions, stepId, 'http', (s) => ({
          ...s,
          status: s.status === 'pending' ? 'running' : s.status,
          startedAt: s.startedAt ?? e.data.attempt.startedAt,
          attempts: [...s.attempts, e.data.attempt],
        })),
      };
    }
    case 'StepStarted':
      return {
        ...view,
        ...at,
        stepExecutions: withStep(view.stepExecutions, e.data.step_id, e.data.type, (s) => ({
          ...s,
          type: e.data.type,
          status: 'running',
          startedAt: s.startedAt ?? e.occurred_at,
          input: e.data.input ?? null,
        })),
      };
    case 'ExecutionParked':
      return {
        ...view,
        ...at,
        status: 'waiting',
        waiting: {
          reason: e.data.reason,
          stepId: e.data.step_id,
          message: e.data.message ?? null,
          tokenSealed: { ciphertext: e.data.token_sealed.ciphertext, key_version: e.data.token_sealed.key_version },
          expiresAt: e.data.expires_at,
        },
        stepExecutions: withStep(view.stepExecutions, e.data.step_id, stepTypeOf(e.data.reason), (s) => ({
          ...s,
          status: 'waiting',
          startedAt: s.startedAt ?? e.occurred_at,
        })),
      };
    case 'ExecutionResumed': {
      const fallbackType: StepType = e.data.via === 'approval' || e.data.decision ? 'approval' : 'wait_for_webhook';
      return {
        ...view,
        ...at,
        status: 'running',
        waiting: null,
        stepExecutions: withStep(view.stepExecutions, e.data.step_id, fallbackType, (s) => ({
          ...s,
          status: 'running',
          input: e.data.decision ?? e.data.payload ?? null,
        })),
      };
    }
    case 'StepCompleted':
      return {
        ...view,
        ...at,
        ...stepEnded(view, e.data.step_id),
        context: Object.keys(e.data.extracted).length > 0 ? { ...(view.context ?? {}), ...e.data.extracted } : view.context,
        stepExecutions: withStep(view.stepExecutions, e.data.step_id, 'http', (s) => ({
          ...s,
          status: 'succeeded',
          finishedAt: e.occurred_at,
          output: e.data.output ?? null,
          extracted: { ...e.data.extracted },
        })),
      };
    case 'StepFailed':
      return {
        ...view,
        ...at,
        ...stepEnded(view, e.data.step_id),
        stepExecutions: withStep(view.stepExecutions, e.data.step_id, 'http', (s) => ({
          ...s,
          status: e.data.status,
          finishedAt: e.occurred_at,
          error: e.data.error,
        })),
      };
    case 'ExecutionSucceeded':
      return {
        ...view,
        ...at,
        ...finished(view, e),
        status: 'succeeded',
        finalOutput: e.data.final_output ?? null,
      };
    case 'ExecutionFailed':
      return { ...view, ...at, ...finished(view, e), status: 'failed', error: e.data.error };
    case 'ExecutionWithdrawn':
      return { ...view, ...at, status: 'withdrawn' };
    default: {
      const unhandled: never = e;
      return unhandled;
    }
  }
}

/**
 * The row past an event it could not apply: everything as before, the checkpoint moved on (so
 * the next event applies), and the failure recorded for whoever reads the execution.
 */
export function skipped(view: ExecutionView, e: ExecutionEvent, reason: string): ExecutionView {
  return {
    ...view,
    position: e.position,
    projectionError: {
      code: 'projection_failed',
      message: `${e.type} at position ${e.position} could not be applied to the read model (${reason}); the execution's own state is unaffected, this view misses that event`,
      event_type: e.type,
      position: e.position,
      skipped_events: (view.projectionError?.skipped_events ?? 0) + 1,
    },
  };
}

const newStep = (stepId: string, type: StepType): StepExecutionView => ({
  stepId,
  type,
  status: 'pending',
  startedAt: null,
  finishedAt: null,
  attempts: [],
  input: null,
  output: null,
  extracted: null,
  error: null,
});

const stepTypeOf = (reason: WaitingReason): StepType => (reason === 'approval' ? 'approval' : 'wait_for_webhook');

/**
 * Applies `update` to the step `stepId`; a step the view does not hold is appended first (as
 * `pending` of `fallbackType`: the type is a best guess when no event named it).
 */
function withStep(steps: readonly StepExecutionView[], stepId: string, fallbackType: StepType, update: (s: StepExecutionView) => StepExecutionView) {
  const index = steps.findIndex((s) => s.stepId === stepId);
  if (index < 0) return [...steps, update(newStep(stepId, fallbackType))];
  return steps.map((s, i) => (i === index ? update(s) : s));
}

/**
 * A step that ends while the execution waits on it (the workflow's deadline fails it before the
 * ExecutionFailed is appended) ends the wait too: its token is dead.
 */
function stepEnded(view: ExecutionView, stepId: string): Pick<ExecutionView, 'status' | 'waiting'> {
  if (view.waiting?.stepId !== stepId) return { status: view.status, waiting: view.waiting };
  return { status: view.status === 'waiting' ? 'running' : view.status, waiting: null };
}

const IN_FLIGHT: readonly StepStatus[] = ['running', 'waiting'];

/**
 * The end of an execution: times, no more waiting, and every step settled — steps never reached
 * become `skipped`; a step still in flight when the execution failed (the workflow's deadline,
 * or a failure by command) takes the execution's error, `timed_out` for `workflow_timeout`.
 */
function finished(view: ExecutionView, e: ExecutionEventOf<'ExecutionSucceeded'> | ExecutionEventOf<'ExecutionFailed'>) {
  const at = e.occurred_at;
  const start = view.startedAt ?? view.queuedAt;
  const settle = (s: StepExecutionView): StepExecutionView => {
    if (s.status === 'pending') return { ...s, status: 'skipped' };
    if (e.type === 'ExecutionFailed' && IN_FLIGHT.includes(s.status)) {
      return { ...s, status: e.data.error.code === 'workflow_timeout' ? 'timed_out' : 'failed', finishedAt: at, error: e.data.error };
    }
    return s;
  };
  return {
    finishedAt: at,
    durationMs: Math.max(0, Date.parse(at) - Date.parse(start)),
    waiting: null,
    stepExecutions: view.stepExecutions.map(settle),
  };
}

/** `waiting_payload` (docs/workflows.md). URLs are null when the token could not be opened. */
export type WaitingPayload =
  | { readonly resume_url: string | null }
  | { readonly review_url: string | null; readonly approve_url: string | null; readonly reject_url: string | null; readonly message: string | null };

/**
 * Builds an execution's `waiting_payload` while it waits. The read model stores the token only
 * sealed; opening it takes the master key, so whoever serves the API supplies this (see
 * `waitingPayloadsOpenedWith`).
 */
export type WaitingPayloadOf = (executionId: string, waiting: WaitingView) => WaitingPayload;

/** The payload for a parked execution; `link` null (the token could not be opened) leaves the URLs null. */
export function waitingPayload(waiting: WaitingView, link: { readonly publicUrl: string; readonly token: string } | null): WaitingPayload {
  const links = link ? parkLinks(link.publicUrl, link.token) : null;
  if (waiting.reason === 'webhook') return { resume_url: links?.resumeUrl ?? null };
  return { review_url: links?.reviewUrl ?? null, approve_url: links?.approveUrl ?? null, reject_url: links?.rejectUrl ?? null, message: waiting.message };
}

const withoutUrls: WaitingPayloadOf = (_executionId, waiting) => waitingPayload(waiting, null);

export function stepToApi(s: StepExecutionView) {
  return {
    step_id: s.stepId,
    type: s.type,
    status: s.status,
    started_at: s.startedAt,
    finished_at: s.finishedAt,
    attempts: s.attempts,
    input: s.input,
    output: s.output,
    extracted: s.extracted,
    error: s.error,
  };
}
export type StepExecutionApi = ReturnType<typeof stepToApi>;

/**
 * The public (snake_case) representation of an execution (docs/executions.md). `waiting_payload` comes from
 * `waitingPayloadOf` (only while the execution waits); without one, its URLs are null.
 */
export function toApi(view: ExecutionView, waitingPayloadOf: WaitingPayloadOf = withoutUrls) {
  const waiting = view.status === 'waiting' ? view.waiting : null;
  return {
    id: view.id,
    job_id: view.jobId,
    job_name: view.jobName,
    kind: view.kind,
    status: view.status,
    trigger: view.trigger,
    scheduled_for: view.scheduledFor,
    queued_at: view.queuedAt,
    started_at: view.startedAt,
    finished_at: view.finishedAt,
    duration_ms: view.durationMs,
    attempts: view.attempts,
    step_executions: view.stepExecutions.map(stepToApi),
    trigger_input: view.triggerInput,
    waiting_reason: waiting?.reason ?? null,
    waiting_payload: waiting ? waitingPayloadOf(view.id, waiting) : null,
    waiting_expires_at: waiting?.expiresAt ?? null,
    final_output: view.finalOutput,
    error: view.error,
    replay_of: view.replayOf,
    /** Null, or why this view misses an event (docs/third-party-data.md). */
    projection_error: view.projectionError,
  };
}
export type ExecutionApi = ReturnType<typeof toApi>;
