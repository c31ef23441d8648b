import type { AttemptRecord, ExecutionError, ExecutionEvent, ExecutionStatus, ExecutionTrigger, JobKind } from '@trigrun/execution-contracts';

/** The projected shape of an execution, independent of storage. */
export interface ExecutionView {
  readonly id: string;
  readonly workspaceId: string;
  readonly jobId: string;
  readonly jobName: string;
  readonly kind: JobKind;
  readonly status: ExecutionStatus;
  readonly trigger: ExecutionTrigger;
  readonly scheduledFor: string | null;
  readonly queuedAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly attempts: readonly AttemptRecord[];
  readonly triggerInput: unknown;
  readonly finalOutput: unknown;
  readonly error: ExecutionError | null;
  readonly replayOf: string | null;
  readonly position: number;
}

/**
 * The projection as a pure fold: `project(view, event)`. The storage shell applies it only to
 * the event right after the row's checkpoint (position), so redelivery changes nothing.
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
      triggerInput: e.data.trigger_input ?? null,
      finalOutput: null,
      error: null,
      replayOf: e.data.replay_of,
      position: e.position,
    };
  }
  if (!view) return null;
  const at = { position: e.position };
  switch (e.type) {
    case 'ExecutionStarted':
      return { ...view, ...at, status: 'running', startedAt: e.occurred_at };
    case 'AttemptRecorded':
      return { ...view, ...at, attempts: [...view.attempts, e.data.attempt] };
    case 'ExecutionSucceeded':
      return { ...view, ...at, ...finished(view, e.occurred_at), status: 'succeeded', finalOutput: e.data.final_output ?? null };
    case 'ExecutionFailed':
      return { ...view, ...at, ...finished(view, e.occurred_at), status: 'failed', error: e.data.error };
  }
}

function finished(view: ExecutionView, at: string) {
  const start = view.startedAt ?? view.queuedAt;
  return { finishedAt: at, durationMs: Math.max(0, Date.parse(at) - Date.parse(start)) };
}

/** The public (snake_case) representation of SPEC §8. */
export function toApi(view: ExecutionView) {
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
    step_executions: [],
    trigger_input: view.triggerInput,
    waiting_reason: null,
    waiting_payload: null,
    waiting_expires_at: null,
    final_output: view.finalOutput,
    error: view.error,
    replay_of: view.replayOf,
  };
}
export type ExecutionApi = ReturnType<typeof toApi>;
