/** Values shared by events and read models. snake_case: these are the public event stream's fields. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export type JobKind = 'recurring' | 'cron' | 'scheduled' | 'one_time' | 'workflow' | 'webhook_trigger';
export type ExecutionTrigger = 'schedule' | 'manual' | 'webhook' | 'replay';
export type ExecutionStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed';
export type AttemptStatus = 'SUCCESS' | 'TIMEOUT' | 'CONNECTION_ERROR' | 'HTTP_ERROR' | 'MATCH_FAILED';

export interface RequestSpec {
  readonly url: string;
  readonly method: HttpMethod;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly timeout_seconds: number;
  readonly success_statuses: readonly number[];
  readonly response_matcher?: unknown;
}

export interface RetryPolicy {
  readonly max_attempts: number;
  readonly retry_on_statuses: readonly number[];
}

export type StepType = 'http' | 'wait_for_webhook' | 'approval';
export const STEP_TYPES: readonly StepType[] = ['http', 'wait_for_webhook', 'approval'];
export type StepStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'rejected' | 'timed_out' | 'skipped';
export const STEP_KINDS: readonly JobKind[] = ['workflow', 'webhook_trigger'];

/** `extract` / `extract_to_context`: a name for each JSONPath read from the step's result (docs/workflows.md). */
export type ExtractionSpec = Readonly<Record<string, string>>;

interface StepCommon {
  /** Stable and unique in the job: `[a-z0-9_-]{1,64}`. */
  readonly id: string;
  readonly extract?: ExtractionSpec;
  readonly extract_to_context?: ExtractionSpec;
}

/** An http step: the request block of a request job, flat on the step, with its own retry policy. */
export interface HttpStepSpec extends StepCommon, RequestSpec {
  readonly type: 'http';
  readonly retry_policy: RetryPolicy;
}

export interface WaitForWebhookStepSpec extends StepCommon {
  readonly type: 'wait_for_webhook';
  /** null: the rest of the workflow's duration. */
  readonly timeout_seconds: number | null;
  readonly on_timeout: 'fail' | 'continue';
}

export interface ApprovalStepSpec extends StepCommon {
  readonly type: 'approval';
  /** A template (context, trigger and execution variables), rendered when the step starts. */
  readonly message: string;
  readonly timeout_seconds: number | null;
  readonly on_timeout: 'reject' | 'approve';
}

export type StepSpec = HttpStepSpec | WaitForWebhookStepSpec | ApprovalStepSpec;

/** What an execution needs of its job, frozen at queue time so a later PATCH cannot change a run in flight. */
export interface JobSnapshot {
  readonly name: string;
  readonly kind: JobKind;
  /** Request kinds. */
  readonly request?: RequestSpec;
  /** Step-driven kinds (`workflow`, `webhook_trigger`). */
  readonly steps?: readonly StepSpec[];
  readonly retry_policy: RetryPolicy;
  readonly response_output_template?: unknown;
  readonly on_success_url?: string | null;
  readonly on_failure_url?: string | null;
  /** 0 = unlimited. Absent on snapshots written before workflows existed: unlimited. */
  readonly max_concurrent_executions?: number;
  /** Step-driven kinds: past started_at + this, the execution fails with `workflow_timeout`. */
  readonly max_workflow_duration_seconds?: number;
}

/**
 * `max_workflow_duration_seconds` when a job does not say (docs/workflows.md): applied to the job
 * when it is defined, and by the decider to a snapshot that lacks it. One value for both.
 */
export const DEFAULT_WORKFLOW_DURATION_SECONDS = 1800;

export const isStepDriven = (job: Pick<JobSnapshot, 'steps'>): job is JobSnapshot & { steps: readonly StepSpec[] } => Array.isArray(job.steps);

export type WaitingReason = 'webhook' | 'approval';

/** What a reviewer decided (docs/workflows.md): also the source `extract` reads after an approval step. */
export interface ApprovalDecision {
  readonly decision: 'approved' | 'rejected';
  readonly comment: string | null;
  readonly decided_by: string | null;
  readonly decided_at: string;
}

/** One HTTP attempt, camelCase as the public API names it (docs/executions.md). */
export interface AttemptRecord {
  readonly number: number;
  readonly status: AttemptStatus;
  readonly statusCode: number | null;
  readonly latencyMs: number;
  readonly bodyPreview: string | null;
  readonly responseHeaders: Readonly<Record<string, string>>;
  readonly errorClass: string | null;
  readonly errorMessage: string | null;
  readonly startedAt: string;
  /** `secret://` references sent as literal text because no such secret exists (docs/secrets.md). */
  readonly missingSecrets?: readonly string[];
}

export interface ExecutionError {
  readonly code: string;
  readonly message: string;
}

/** The three execution variables of templates (docs/jobs.md), fixed once when the execution starts. */
export interface ExecutionVariables {
  readonly timestamp: string;
  readonly uuid: string;
  readonly execution_id: string;
}
