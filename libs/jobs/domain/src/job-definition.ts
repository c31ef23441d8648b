import { type ResponseMatcher, normalizeMatcher, normalizeOutputTemplate } from '@trigrun/response-matching';
import { type AllowedVariables, REQUEST_JOB_VARIABLES, checkRequestTemplates } from '@trigrun/templating';
import {
  DEFAULT_WORKFLOW_DURATION_SECONDS,
  HTTP_METHODS,
  type HttpMethod,
  type JobKind,
  type JobSnapshot,
  type RequestSpec,
  type RetryPolicy,
  STEP_KINDS,
  type StepSpec,
} from '@trigrun/execution-contracts';

/**
 * Rules for job definitions that the DTO's shape checks cannot express: defaults, cross-field
 * rules and per-kind requirements. Pure: the API edge turns problems into a 400.
 */
export interface Problem {
  readonly field: string;
  readonly message: string;
}

export const JOB_KINDS: readonly JobKind[] = ['recurring', 'cron', 'scheduled', 'one_time', 'workflow', 'webhook_trigger'];
/** Kinds this build runs. The others are accepted by the contract but answered with a clear 400 until they land. */
export const SUPPORTED_KINDS: readonly JobKind[] = ['recurring', 'cron', 'scheduled', 'one_time', 'workflow'];
export const REQUEST_KINDS: readonly JobKind[] = ['recurring', 'cron', 'scheduled', 'one_time'];

export const REQUEST_DEFAULTS = {
  method: 'GET' as HttpMethod,
  timeout_seconds: 30,
  success_statuses: [200, 201, 202, 204],
};
export const RETRY_DEFAULTS: RetryPolicy = { max_attempts: 3, retry_on_statuses: [429, 500, 502, 503, 504] };

export interface RequestInput {
  url?: unknown;
  method?: unknown;
  headers?: unknown;
  body?: unknown;
  timeout_seconds?: unknown;
  success_statuses?: unknown;
  response_matcher?: unknown;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * What an HTTP/1.1 header value can carry, as Node checks it when sending: tab, visible ASCII,
 * space and the Latin-1 range; no CR, LF, NUL or other controls. Anything else passed creation
 * and failed every send, so it is refused here (`secret://` values are checked at send time).
 */
const UNSENDABLE_IN_HEADER = /[^\t\x20-\x7e\x80-\xff]/;
/** Headers the platform owns or that would break framing if a job set them. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'x-cron-service-execution-id']);

export function normalizeRequest(
  input: RequestInput | undefined,
  field = 'request',
  allowed: AllowedVariables = REQUEST_JOB_VARIABLES,
): { value?: RequestSpec; problems: Problem[] } {
  const problems: Problem[] = [];
  if (input === undefined || input === null || typeof input !== 'object') {
    return { problems: [{ field, message: 'is required' }] };
  }
  const url = checkUrl(input.url, `${field}.url`, problems);
  const method = (input.method ?? REQUEST_DEFAULTS.method) as HttpMethod;
  if (!HTTP_METHODS.includes(method)) problems.push({ field: `${field}.method`, message: `must be one of ${HTTP_METHODS.join(', ')}` });
  const headers: Record<string, string> = {};
  if (input.headers !== undefined) {
    if (typeof input.headers !== 'object' || input.headers === null || Array.isArray(input.headers)) {
      problems.push({ field: `${field}.headers`, message: 'must be an object of header names to string values' });
    } else {
      for (const [name, value] of Object.entries(input.headers)) {
        if (!HEADER_NAME.test(name)) problems.push({ field: `${field}.headers.${name}`, message: 'is not a valid header name' });
        else if (RESERVED_HEADERS.has(name.toLowerCase())) problems.push({ field: `${field}.headers.${name}`, message: 'is set by the platform' });
        else if (typeof value !== 'string') problems.push({ field: `${field}.headers.${name}`, message: 'must be a string' });
        else if (UNSENDABLE_IN_HEADER.test(value)) {
          problems.push({ field: `${field}.headers.${name}`, message: 'must be Latin-1 text without line breaks or control characters (HTTP cannot send anything else in a header)' });
        }
        else headers[name] = value;
      }
    }
  }
  const timeout = input.timeout_seconds ?? REQUEST_DEFAULTS.timeout_seconds;
  if (!Number.isInteger(timeout) || (timeout as number) < 1 || (timeout as number) > 300) {
    problems.push({ field: `${field}.timeout_seconds`, message: 'must be an integer from 1 to 300' });
  }
  const statuses = input.success_statuses ?? REQUEST_DEFAULTS.success_statuses;
  if (!Array.isArray(statuses) || statuses.length === 0 || !statuses.every((s) => Number.isInteger(s) && s >= 100 && s <= 599)) {
    problems.push({ field: `${field}.success_statuses`, message: 'must be a non-empty list of HTTP status codes (100-599)' });
  }
  let matcher: ResponseMatcher | undefined;
  if (input.response_matcher !== undefined && input.response_matcher !== null) {
    const normalized = normalizeMatcher(input.response_matcher, `${field}.response_matcher`);
    problems.push(...normalized.problems);
    matcher = normalized.value;
  }
  // Templates may use only the execution variables here; a typo is a 400 now, not a failed run later.
  problems.push(...checkRequestTemplates(input, allowed, field));
  if (method === 'GET' && input.body !== undefined && input.body !== null) {
    problems.push({ field: `${field}.body`, message: 'is not allowed with GET' });
  }
  if (problems.length > 0) return { problems };
  return {
    value: {
      url: url!,
      method,
      headers,
      ...(input.body !== undefined && input.body !== null ? { body: input.body } : {}),
      timeout_seconds: timeout as number,
      success_statuses: [...new Set(statuses as number[])],
      ...(matcher ? { response_matcher: matcher } : {}),
    },
    problems,
  };
}

function checkUrl(value: unknown, field: string, problems: Problem[]): string | undefined {
  if (typeof value !== 'string' || value.length === 0) {
    problems.push({ field, message: 'is required' });
    return undefined;
  }
  if (value.length > 2048) {
    problems.push({ field, message: 'must be at most 2048 characters' });
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    problems.push({ field, message: 'must be an absolute http or https URL' });
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    problems.push({ field, message: 'must use http or https' });
    return undefined;
  }
  if (parsed.username || parsed.password) {
    problems.push({ field, message: 'must not embed credentials; use a header with secret://' });
    return undefined;
  }
  return value;
}

export function normalizeRetryPolicy(input: unknown, field = 'retry_policy'): { value?: RetryPolicy; problems: Problem[] } {
  if (input === undefined || input === null) return { value: RETRY_DEFAULTS, problems: [] };
  const problems: Problem[] = [];
  if (typeof input !== 'object' || Array.isArray(input)) return { problems: [{ field, message: 'must be an object' }] };
  const { max_attempts = RETRY_DEFAULTS.max_attempts, retry_on_statuses = RETRY_DEFAULTS.retry_on_statuses } = input as Record<string, unknown>;
  if (!Number.isInteger(max_attempts) || (max_attempts as number) < 1 || (max_attempts as number) > 10) {
    problems.push({ field: `${field}.max_attempts`, message: 'must be an integer from 1 to 10' });
  }
  if (!Array.isArray(retry_on_statuses) || !retry_on_statuses.every((s) => Number.isInteger(s) && s >= 100 && s <= 599)) {
    problems.push({ field: `${field}.retry_on_statuses`, message: 'must be a list of HTTP status codes (100-599)' });
  }
  if (problems.length > 0) return { problems };
  return { value: { max_attempts: max_attempts as number, retry_on_statuses: [...new Set(retry_on_statuses as number[])] }, problems };
}

export function optionalCallbackUrl(value: unknown, field: string, problems: Problem[]): string | null {
  if (value === undefined || value === null) return null;
  return checkUrl(value, field, problems) ?? null;
}

/** Step-driven kinds: the default (one value for the jobs and the decider) lives in the contracts. */
export { DEFAULT_WORKFLOW_DURATION_SECONDS };
export const MAX_WORKFLOW_DURATION_SECONDS = 7200;

/**
 * The job as an execution sees it. Request kinds carry `request`, step-driven kinds carry `steps`
 * and their duration limit; never both, so the engine can tell them apart by shape alone.
 */
export function snapshotOf(job: {
  name: string;
  kind: JobKind;
  request?: RequestSpec | null;
  steps?: readonly StepSpec[] | null;
  retryPolicy: RetryPolicy;
  maxConcurrentExecutions?: number;
  maxWorkflowDurationSeconds?: number | null;
  onSuccessUrl: string | null;
  onFailureUrl: string | null;
  responseOutputTemplate?: unknown;
}): JobSnapshot {
  const stepDriven = STEP_KINDS.includes(job.kind);
  if (stepDriven ? !job.steps : !job.request) throw new Error(`job "${job.name}" (${job.kind}) has no ${stepDriven ? 'steps' : 'request'} to snapshot`);
  return {
    name: job.name,
    kind: job.kind,
    ...(stepDriven
      ? { steps: job.steps!, max_workflow_duration_seconds: job.maxWorkflowDurationSeconds ?? DEFAULT_WORKFLOW_DURATION_SECONDS }
      : { request: job.request! }),
    retry_policy: job.retryPolicy,
    on_success_url: job.onSuccessUrl,
    on_failure_url: job.onFailureUrl,
    ...(job.maxConcurrentExecutions !== undefined ? { max_concurrent_executions: job.maxConcurrentExecutions } : {}),
    ...(job.responseOutputTemplate !== undefined && job.responseOutputTemplate !== null ? { response_output_template: job.responseOutputTemplate } : {}),
  };
}

/**
 * `response_output_template` (docs/jobs.md): `$.path` leaves read the final response body (a workflow's:
 * the last step's output); templates may use the execution variables, and in workflows also
 * `context.*` and `trigger.*`.
 */
export function normalizeResponseOutputTemplate(
  input: unknown,
  field = 'response_output_template',
  allowed: AllowedVariables = REQUEST_JOB_VARIABLES,
): { value?: unknown; problems: Problem[] } {
  if (input === undefined || input === null) return { value: null, problems: [] };
  return normalizeOutputTemplate(input, field, allowed);
}
