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

/** What an execution needs of its job, frozen at queue time so a later PATCH cannot change a run in flight. */
export interface JobSnapshot {
  readonly name: string;
  readonly kind: JobKind;
  readonly request: RequestSpec;
  readonly retry_policy: RetryPolicy;
  readonly response_output_template?: unknown;
  readonly on_success_url?: string | null;
  readonly on_failure_url?: string | null;
}

/** One HTTP attempt, camelCase as the public API names it (SPEC §8). */
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
  /** `secret://` references sent as literal text because no such secret exists (SPEC §9). */
  readonly missingSecrets?: readonly string[];
}

export interface ExecutionError {
  readonly code: string;
  readonly message: string;
}

/** The three execution variables of SPEC §4, fixed once when the execution starts. */
export interface ExecutionVariables {
  readonly timestamp: string;
  readonly uuid: string;
  readonly execution_id: string;
}
