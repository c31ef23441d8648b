import type { JobKind, RequestSpec, RetryPolicy, StepSpec } from '@trigrun/execution-contracts';
import { type NormalizedSchedule, normalizeSchedule } from '@trigrun/scheduling-domain';
import { REQUEST_JOB_VARIABLES, WORKFLOW_VARIABLES } from '@trigrun/templating';
import {
  DEFAULT_WORKFLOW_DURATION_SECONDS,
  MAX_WORKFLOW_DURATION_SECONDS,
  type Problem,
  REQUEST_KINDS,
  type RequestInput,
  normalizeRequest,
  normalizeResponseOutputTemplate,
  normalizeRetryPolicy,
  optionalCallbackUrl,
} from './job-definition';
import { normalizeSteps } from './workflow-steps';

/** The definition fields of a job as a client sends them (create, or a PATCH already merged over the stored job). */
export interface JobFieldsInput {
  readonly schedule?: unknown;
  readonly request?: unknown;
  readonly steps?: unknown;
  readonly retry_policy?: unknown;
  readonly max_concurrent_executions?: unknown;
  readonly max_workflow_duration_seconds?: unknown;
  readonly on_success_url?: unknown;
  readonly on_failure_url?: unknown;
  readonly response_output_template?: unknown;
}

/** The normalised definition, camelCase as the job row holds it. */
export interface JobFields {
  /** Present only when the schedule was validated (on create, or a PATCH that sends one); null = no schedule. */
  readonly schedule?: NormalizedSchedule | null;
  readonly request: RequestSpec | null;
  readonly steps: StepSpec[] | null;
  /** Request kinds: the request's retries. Every kind: the on_success/on_failure callbacks' retries. */
  readonly retryPolicy: RetryPolicy;
  readonly maxConcurrentExecutions: number;
  readonly maxWorkflowDurationSeconds: number | null;
  readonly onSuccessUrl: string | null;
  readonly onFailureUrl: string | null;
  readonly responseOutputTemplate: unknown;
}

export const MAX_CONCURRENT_EXECUTIONS_LIMIT = 1000;
/** Step-driven jobs run one at a time unless told otherwise; request jobs are unlimited (docs/jobs.md). */
export const DEFAULT_MAX_CONCURRENT = { request: 0, workflow: 1 } as const;

const REQUEST_KIND_NAMES = REQUEST_KINDS.join(', ');

/**
 * Per-kind rules for a job's definition: which blocks it needs, which it must not have, and the
 * defaults. `withSchedule`: validate `input.schedule` (create, and a PATCH that sends one).
 * Only `workflow` among the step-driven kinds is handled here; `webhook_trigger` is refused
 * earlier, by kind.
 */
export function normalizeJobFields(
  kind: JobKind,
  input: JobFieldsInput,
  opts: { readonly now: Date; readonly withSchedule: boolean },
): { value?: JobFields; problems: Problem[] } {
  const problems: Problem[] = [];
  const isWorkflow = kind === 'workflow';
  if (!isWorkflow && !REQUEST_KINDS.includes(kind)) return { problems: [{ field: 'kind', message: `"${kind}" jobs are not available in this version yet` }] };

  let schedule: { value: NormalizedSchedule | null } | undefined;
  if (opts.withSchedule) {
    // A workflow may have no schedule at all: it then runs only when asked to (run-now).
    const given = input.schedule !== undefined && input.schedule !== null;
    const normalized = isWorkflow && !given ? { value: null, problems: [] } : normalizeSchedule(kind, input.schedule ?? null, opts.now);
    problems.push(...normalized.problems);
    schedule = { value: normalized.value };
  }

  let request: RequestSpec | null = null;
  let steps: StepSpec[] | null = null;
  if (isWorkflow) {
    if (input.request !== undefined && input.request !== null) {
      problems.push({ field: 'request', message: `is only for ${REQUEST_KIND_NAMES} jobs; a workflow sends its requests from http steps` });
    }
    const normalized = normalizeSteps(input.steps);
    problems.push(...normalized.problems);
    steps = normalized.value ?? null;
  } else {
    const normalized = normalizeRequest(input.request as RequestInput | undefined);
    problems.push(...normalized.problems);
    request = normalized.value ?? null;
    if (input.steps !== undefined && input.steps !== null) problems.push({ field: 'steps', message: 'is only for workflow and webhook_trigger jobs' });
  }

  const retry = normalizeRetryPolicy(input.retry_policy);
  problems.push(...retry.problems);
  const outputTemplate = normalizeResponseOutputTemplate(input.response_output_template, 'response_output_template', isWorkflow ? WORKFLOW_VARIABLES : REQUEST_JOB_VARIABLES);
  problems.push(...outputTemplate.problems);

  const maxConcurrent = input.max_concurrent_executions ?? (isWorkflow ? DEFAULT_MAX_CONCURRENT.workflow : DEFAULT_MAX_CONCURRENT.request);
  if (!Number.isInteger(maxConcurrent) || (maxConcurrent as number) < 0 || (maxConcurrent as number) > MAX_CONCURRENT_EXECUTIONS_LIMIT) {
    problems.push({ field: 'max_concurrent_executions', message: `must be an integer from 0 (unlimited) to ${MAX_CONCURRENT_EXECUTIONS_LIMIT}` });
  }

  let maxDuration: number | null = null;
  if (isWorkflow) {
    const value = input.max_workflow_duration_seconds ?? DEFAULT_WORKFLOW_DURATION_SECONDS;
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_WORKFLOW_DURATION_SECONDS) {
      problems.push({ field: 'max_workflow_duration_seconds', message: `must be an integer from 1 to ${MAX_WORKFLOW_DURATION_SECONDS}` });
    } else {
      maxDuration = value as number;
    }
  } else if (input.max_workflow_duration_seconds !== undefined && input.max_workflow_duration_seconds !== null) {
    problems.push({ field: 'max_workflow_duration_seconds', message: 'is only for workflow and webhook_trigger jobs' });
  }

  const onSuccessUrl = optionalCallbackUrl(input.on_success_url, 'on_success_url', problems);
  const onFailureUrl = optionalCallbackUrl(input.on_failure_url, 'on_failure_url', problems);
  if (problems.length > 0) return { problems };
  return {
    value: {
      ...(schedule ? { schedule: schedule.value } : {}),
      request,
      steps,
      retryPolicy: retry.value!,
      maxConcurrentExecutions: maxConcurrent as number,
      maxWorkflowDurationSeconds: maxDuration,
      onSuccessUrl,
      onFailureUrl,
      responseOutputTemplate: outputTemplate.value ?? null,
    },
    problems,
  };
}
