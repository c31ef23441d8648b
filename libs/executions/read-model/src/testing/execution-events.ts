import type { JsMsg } from '@nats-io/jetstream';
import type {
  AttemptRecord,
  ExecutionError,
  ExecutionEvent,
  ExecutionEventData,
  ExecutionEventOf,
  ExecutionEventType,
  ExecutionTrigger,
  JobKind,
  JobSnapshot,
  StepSpec,
  WithdrawalReason,
} from '@trigrun/execution-contracts';

export interface ExecutionIdentity {
  readonly executionId: string;
  readonly jobId: string;
  readonly workspaceId: string;
}

export function jobSnapshot(name: string, kind: JobKind): JobSnapshot {
  return {
    name,
    kind,
    request: { url: 'https://example.com/hook', method: 'POST', headers: {}, timeout_seconds: 30, success_statuses: [200] },
    retry_policy: { max_attempts: 3, retry_on_statuses: [503] },
  };
}

/**
 * A workflow's snapshot: `fetch` (http) → `wait` (wait_for_webhook) → `review` (approval) →
 * `notify` (http), unless other steps are given.
 */
export function workflowSnapshot(name: string, steps: readonly StepSpec[] = WORKFLOW_STEPS, kind: JobKind = 'workflow'): JobSnapshot {
  return { name, kind, steps, retry_policy: { max_attempts: 3, retry_on_statuses: [503] }, max_concurrent_executions: 1, max_workflow_duration_seconds: 1800 };
}

const httpStep = (id: string, url: string): StepSpec => ({
  id,
  type: 'http',
  url,
  method: 'POST',
  headers: {},
  timeout_seconds: 30,
  success_statuses: [200],
  retry_policy: { max_attempts: 3, retry_on_statuses: [503] },
  extract: { order_id: '$.order.id' },
});

export const WORKFLOW_STEPS: readonly StepSpec[] = [
  httpStep('fetch', 'https://example.com/orders'),
  { id: 'wait', type: 'wait_for_webhook', timeout_seconds: 600, on_timeout: 'fail' },
  { id: 'review', type: 'approval', message: 'Ship order {{context.order_id}}?', timeout_seconds: null, on_timeout: 'reject' },
  httpStep('notify', 'https://example.com/notify'),
];

/** A sealed token as ExecutionParked carries it (opaque here: the projection never opens it). */
export const SEALED_TOKEN = { ciphertext: 'c2VhbGVkLXRva2VuLWJ5dGVz', key_version: 1 } as const;

export function attemptRecord(number: number, startedAt: string, over: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    number,
    status: 'SUCCESS',
    statusCode: 200,
    latencyMs: 42,
    bodyPreview: '{"ok":true}',
    responseHeaders: { 'content-type': 'application/json' },
    errorClass: null,
    errorMessage: null,
    startedAt,
    ...over,
  };
}

/**
 * Envelopes for one execution, as the engine would store them. Positions are explicit so a test
 * can deliver them out of order or twice.
 */
export function eventsOf(identity: ExecutionIdentity) {
  const envelope = <T extends ExecutionEventType>(type: T, position: number, occurredAt: string, data: ExecutionEventData[T]) =>
    ({
      type,
      version: 1,
      id: `evt_${identity.executionId}_${position}`,
      execution_id: identity.executionId,
      job_id: identity.jobId,
      workspace_id: identity.workspaceId,
      occurred_at: occurredAt,
      position,
      data,
    }) as unknown as ExecutionEventOf<T>;
  return {
    queued: (
      at: string,
      opts: { job: JobSnapshot; trigger: ExecutionTrigger; scheduledFor?: string | null; triggerInput?: unknown; replayOf?: string | null },
    ) =>
      envelope('ExecutionQueued', 1, at, {
        job: opts.job,
        trigger: opts.trigger,
        scheduled_for: opts.scheduledFor ?? null,
        replay_of: opts.replayOf ?? null,
        trigger_input: opts.triggerInput ?? null,
      }),
    started: (position: number, at: string, context?: Record<string, unknown>) =>
      envelope('ExecutionStarted', position, at, {
        variables: { timestamp: at, uuid: `uuid-${identity.executionId}`, execution_id: identity.executionId },
        ...(context ? { context } : {}),
      }),
    attempt: (position: number, at: string, attempt: AttemptRecord, nextAttemptAt: string | null = null, stepId: string | null = null) =>
      envelope('AttemptRecorded', position, at, { step_id: stepId, attempt, next_attempt_at: nextAttemptAt }),
    stepStarted: (position: number, at: string, step: { id: string; type: ExecutionEventData['StepStarted']['type']; index: number; input?: unknown }) =>
      envelope('StepStarted', position, at, { step_id: step.id, type: step.type, index: step.index, input: step.input ?? null }),
    stepCompleted: (position: number, at: string, stepId: string, output: unknown, extracted: Record<string, unknown> = {}, contextUpdates: Record<string, string> = {}) =>
      envelope('StepCompleted', position, at, { step_id: stepId, output, extracted, context_updates: contextUpdates }),
    stepFailed: (position: number, at: string, stepId: string, status: ExecutionEventData['StepFailed']['status'], error: ExecutionError) =>
      envelope('StepFailed', position, at, { step_id: stepId, status, error }),
    parked: (
      position: number,
      at: string,
      opts: { stepId: string; reason: ExecutionEventData['ExecutionParked']['reason']; expiresAt: string; message?: string; sealed?: { ciphertext: string; key_version: number } },
    ) =>
      envelope('ExecutionParked', position, at, {
        step_id: opts.stepId,
        reason: opts.reason,
        token_hash: 'a'.repeat(64),
        token_sealed: opts.sealed ?? SEALED_TOKEN,
        expires_at: opts.expiresAt,
        ...(opts.message === undefined ? {} : { message: opts.message }),
      }),
    resumed: (
      position: number,
      at: string,
      opts: { stepId: string; via: ExecutionEventData['ExecutionResumed']['via']; payload?: unknown; decision?: ExecutionEventData['ExecutionResumed']['decision'] },
    ) =>
      envelope('ExecutionResumed', position, at, {
        step_id: opts.stepId,
        via: opts.via,
        payload: opts.payload ?? null,
        ...(opts.decision ? { decision: opts.decision } : {}),
      }),
    succeeded: (position: number, at: string, finalOutput: unknown = null) => envelope('ExecutionSucceeded', position, at, { final_output: finalOutput }),
    failed: (position: number, at: string, error: ExecutionError) => envelope('ExecutionFailed', position, at, { error }),
    withdrawn: (position: number, at: string, reason: WithdrawalReason) => envelope('ExecutionWithdrawn', position, at, { reason }),
  };
}

/** Queued → started → one attempt → succeeded (or failed), at the given instants. */
export function finishedRun(
  identity: ExecutionIdentity,
  opts: {
    job: JobSnapshot;
    trigger: ExecutionTrigger;
    queuedAt: string;
    startedAt: string;
    finishedAt: string;
    outcome?: 'succeeded' | 'failed';
    triggerInput?: unknown;
    finalOutput?: unknown;
  },
): [ExecutionEventOf<'ExecutionQueued'>, ExecutionEventOf<'ExecutionStarted'>, ExecutionEventOf<'AttemptRecorded'>, ExecutionEvent] {
  const e = eventsOf(identity);
  const failed = opts.outcome === 'failed';
  return [
    e.queued(opts.queuedAt, { job: opts.job, trigger: opts.trigger, triggerInput: opts.triggerInput }),
    e.started(2, opts.startedAt),
    e.attempt(3, opts.startedAt, attemptRecord(1, opts.startedAt, failed ? { status: 'HTTP_ERROR', statusCode: 500 } : {})),
    failed ? e.failed(4, opts.finishedAt, { code: 'http_error', message: 'HTTP 500' }) : e.succeeded(4, opts.finishedAt, opts.finalOutput ?? null),
  ];
}

const encoder = new TextEncoder();

/** The two fields of a JetStream message the projector reads. */
export function jsMsg(event: ExecutionEvent, seq: number): JsMsg {
  return { data: encoder.encode(JSON.stringify(event)), seq } as unknown as JsMsg;
}
