import type { ExecutionEvent } from './events';
import type { RetryPolicy } from './model';

/**
 * `DeliverCallback` (v1): the command to POST an ended execution's result to its job's
 * on_success_url / on_failure_url (docs/jobs.md). The step-runner issues it when it sees the terminal
 * event; the notifier carries it out. It holds everything needed, so delivery reads nothing else.
 *
 * Subject: <namespace>.cmd.callback.<execution_id>   stream <NAMESPACE>_CALLBACKS
 */
export interface DeliverCallback {
  readonly type: 'DeliverCallback';
  readonly version: 1;
  readonly execution_id: string;
  readonly job_id: string;
  readonly workspace_id: string;
  readonly url: string;
  readonly retry_policy: RetryPolicy;
  readonly body: CallbackBody;
}

export interface CallbackBody {
  readonly event: 'execution.succeeded' | 'execution.failed';
  readonly execution: {
    readonly id: string;
    readonly job_id: string;
    readonly status: 'succeeded' | 'failed';
    readonly final_output: unknown;
    readonly error: { readonly code: string; readonly message: string } | null;
    readonly started_at: string | null;
    readonly finished_at: string;
  };
}

/**
 * The body POSTed to on_success_url / on_failure_url (docs/jobs.md). Built from the events alone, which
 * hold only redacted values of whatever a send yielded (docs/secrets.md): no secret reaches a
 * callback receiver, and nothing here may add a value from anywhere else.
 */
export function callbackBody(events: readonly ExecutionEvent[]): CallbackBody | null {
  const queued = events.find((e) => e.type === 'ExecutionQueued');
  const started = events.find((e) => e.type === 'ExecutionStarted');
  const end = events.at(-1);
  if (!queued || !end || (end.type !== 'ExecutionSucceeded' && end.type !== 'ExecutionFailed')) return null;
  const succeeded = end.type === 'ExecutionSucceeded';
  return {
    event: succeeded ? 'execution.succeeded' : 'execution.failed',
    execution: {
      id: end.execution_id,
      job_id: end.job_id,
      status: succeeded ? 'succeeded' : 'failed',
      final_output: succeeded ? (end.data.final_output ?? null) : null,
      error: succeeded ? null : end.data.error,
      started_at: started?.occurred_at ?? null,
      finished_at: end.occurred_at,
    },
  };
}

/** The callback an ended execution asks for, or null (not ended, or no URL for its outcome). */
export function callbackFor(events: readonly ExecutionEvent[]): DeliverCallback | null {
  const queued = events[0];
  const body = callbackBody(events);
  if (!queued || queued.type !== 'ExecutionQueued' || !body) return null;
  const job = queued.data.job;
  const url = body.event === 'execution.succeeded' ? job.on_success_url : job.on_failure_url;
  if (!url) return null;
  return {
    type: 'DeliverCallback',
    version: 1,
    execution_id: queued.execution_id,
    job_id: queued.job_id,
    workspace_id: queued.workspace_id,
    url,
    retry_policy: job.retry_policy,
    body,
  };
}

export const callbackSubjects = (namespace: string) => ({
  stream: `${namespace.toUpperCase()}_CALLBACKS`,
  all: `${namespace}.cmd.callback.*`,
  forExecution: (executionId: string) => `${namespace}.cmd.callback.${executionId}`,
});

export class InvalidCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCommandError';
  }
}

export function parseDeliverCallback(value: unknown): DeliverCallback {
  const v = value as Partial<DeliverCallback> | null;
  const ok =
    !!v &&
    v.type === 'DeliverCallback' &&
    v.version === 1 &&
    typeof v.execution_id === 'string' &&
    typeof v.url === 'string' &&
    !!v.retry_policy &&
    Number.isInteger(v.retry_policy.max_attempts) &&
    Array.isArray(v.retry_policy.retry_on_statuses) &&
    !!v.body &&
    (v.body.event === 'execution.succeeded' || v.body.event === 'execution.failed');
  if (!ok) throw new InvalidCommandError('not a DeliverCallback v1 command');
  return v as DeliverCallback;
}
