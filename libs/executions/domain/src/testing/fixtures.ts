import type {
  ApprovalDecision,
  ApprovalStepSpec,
  AttemptRecord,
  HttpStepSpec,
  JobSnapshot,
  NewExecutionEvent,
  StepSpec,
  WaitForWebhookStepSpec,
} from '@trigrun/execution-contracts';
import type { ExecutionState, ParkToken } from '../execution.decider';

/**
 * Fixtures of the decider specs: a job of each kind, the events of a history, fixed times. Every
 * event of a history occurs at T0, so a workflow's deadline is T0 + max_workflow_duration_seconds;
 * commands carry their own `now`.
 */

export const T0 = '2026-03-15T10:00:00.000Z';
/** T0 + `seconds`. */
export const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();
export const variables = { timestamp: T0, uuid: 'u-1', execution_id: 'exec_1' };
export const retry = { max_attempts: 3, retry_on_statuses: [503] };
export const token: ParkToken = { hash: 'hash-1', sealed: { ciphertext: 'sealed-1', key_version: 1 } };

// ---------------------------------------------------------------- fixtures

export const httpStep = (over: Partial<HttpStepSpec> = {}): HttpStepSpec => ({
  id: 'fetch',
  type: 'http',
  url: 'https://api.example.com/items/{{context.item_id}}',
  method: 'POST',
  headers: {},
  timeout_seconds: 30,
  success_statuses: [200],
  retry_policy: retry,
  ...over,
});
export const webhookStep = (over: Partial<WaitForWebhookStepSpec> = {}): WaitForWebhookStepSpec => ({
  id: 'callback',
  type: 'wait_for_webhook',
  timeout_seconds: 600,
  on_timeout: 'fail',
  ...over,
});
export const approvalStep = (over: Partial<ApprovalStepSpec> = {}): ApprovalStepSpec => ({
  id: 'review',
  type: 'approval',
  message: 'Ship order {{context.order_id}} for {{trigger.body.customer}}?',
  timeout_seconds: 3600,
  on_timeout: 'reject',
  ...over,
});
export const workflow = (steps: StepSpec[], over: Partial<JobSnapshot> = {}): JobSnapshot => ({
  name: 'flow',
  kind: 'workflow',
  steps,
  retry_policy: retry,
  max_workflow_duration_seconds: 7200,
  ...over,
});
export const DEADLINE = at(7200);

export const triggerInput = {
  method: 'POST',
  headers: { 'x-source': 'shop' },
  query: { page: '2' },
  body: { a: 'alpha', count: 3, customer: 'Ada', order: { id: 'o-1', total: 12.5 } },
  content_type: 'application/json',
  received_at: T0,
  source_ip: '203.0.113.9',
};

// ---------------------------------------------------------------- events

export const queued = (job: JobSnapshot, trigger_input: unknown = null): NewExecutionEvent => ({
  type: 'ExecutionQueued',
  data: { job, trigger: trigger_input === null ? 'schedule' : 'webhook', scheduled_for: null, replay_of: null, trigger_input },
});
export const started = (context: Record<string, unknown> = {}): NewExecutionEvent => ({ type: 'ExecutionStarted', data: { variables, context } });
export const stepStarted = (step: StepSpec, index: number, input: unknown): NewExecutionEvent => ({
  type: 'StepStarted',
  data: { step_id: step.id, type: step.type, index, input },
});
export const attempt = (number: number, over: Partial<AttemptRecord> = {}): AttemptRecord => ({
  number,
  status: 'SUCCESS',
  statusCode: 200,
  latencyMs: 12,
  bodyPreview: 'ok',
  responseHeaders: {},
  errorClass: null,
  errorMessage: null,
  startedAt: T0,
  ...over,
});
export const failedAttempt = (number: number, statusCode = 503) => attempt(number, { status: 'HTTP_ERROR', statusCode });
export const recorded = (stepId: string, a: AttemptRecord, next: string | null = null, output: unknown = null): NewExecutionEvent => ({
  type: 'AttemptRecorded',
  data: { step_id: stepId, attempt: a, next_attempt_at: next, output },
});
export const completed = (
  stepId: string,
  output: unknown,
  extracted: Record<string, unknown> = {},
  context_updates: Record<string, string> = {},
): NewExecutionEvent => ({ type: 'StepCompleted', data: { step_id: stepId, output, extracted, context_updates } });
export const stepFailed = (stepId: string, status: 'failed' | 'rejected' | 'timed_out', code: string, message: string): NewExecutionEvent => ({
  type: 'StepFailed',
  data: { step_id: stepId, status, error: { code, message } },
});
export const executionFailed = (code: string, message: string): NewExecutionEvent => ({ type: 'ExecutionFailed', data: { error: { code, message } } });
export const parkedOn = (step: StepSpec, expires_at: string, message?: string): NewExecutionEvent => ({
  type: 'ExecutionParked',
  data: {
    step_id: step.id,
    reason: step.type === 'approval' ? 'approval' : 'webhook',
    token_hash: token.hash,
    token_sealed: token.sealed,
    expires_at,
    ...(message !== undefined ? { message } : {}),
  },
});
export const resumedBy = (stepId: string, payload: unknown): NewExecutionEvent => ({ type: 'ExecutionResumed', data: { step_id: stepId, via: 'resume', payload } });
export const decided = (stepId: string, decision: ApprovalDecision, via: 'approval' | 'timeout' = 'approval'): NewExecutionEvent => ({
  type: 'ExecutionResumed',
  data: { step_id: stepId, via, payload: decision, decision },
});
export const decision = (over: Partial<ApprovalDecision> = {}): ApprovalDecision => ({
  decision: 'approved',
  comment: 'looks good',
  decided_by: 'alice',
  decided_at: at(60),
  ...over,
});
export const workflowTimeout = (seconds: number) => `the workflow did not finish within ${seconds} s (max_workflow_duration_seconds)`;

/** The progress of a step-driven execution (also kept once it ended). */
export const progressOf = (state: ExecutionState) => {
  if (state.status !== 'stepping' && state.status !== 'succeeded' && state.status !== 'failed') throw new Error(`no progress while ${state.status}`);
  return state.progress!;
};
