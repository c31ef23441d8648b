import {
  type ApprovalStepSpec,
  type ExtractionSpec,
  type HttpStepSpec,
  STEP_TYPES,
  type StepSpec,
  type StepType,
  type WaitForWebhookStepSpec,
} from '@trigrun/execution-contracts';
import { FORBIDDEN_SEGMENTS, JsonPathSyntaxError, WORKFLOW_VARIABLES, checkTemplates, isPlainObject, parseJsonPath } from '@trigrun/templating';
import { type Problem, type RequestInput, normalizeRequest, normalizeRetryPolicy } from './job-definition';

/**
 * `steps[]` of a step-driven job (docs/workflows.md), validated and normalised into the contract's
 * StepSpec. Every problem names the step by position (`steps[2].url`), and its message names the
 * step id when the step has a usable one, so a 400 for a long workflow points at the right step.
 * Step templates may use the workflow variables: `context.*`, `trigger.*` and the execution
 * variables.
 */

export const MAX_STEPS = 50;
export const STEP_ID = /^[a-z0-9_-]{1,64}$/;
/** Extracted names become `{{context.<name>}}`: identifier-like, so a template can always reach them. */
export const EXTRACTION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const MAX_EXTRACTIONS_PER_STEP = 100;
/** A parked step waits at most as long as the longest workflow may run. */
export const MAX_PARK_TIMEOUT_SECONDS = 7200;
export const MAX_APPROVAL_MESSAGE_LENGTH = 4000;

const COMMON_FIELDS = ['id', 'type', 'extract', 'extract_to_context'] as const;
const REQUEST_FIELDS = ['url', 'method', 'headers', 'body', 'timeout_seconds', 'success_statuses', 'response_matcher'] as const;
const FIELDS_BY_TYPE: Readonly<Record<StepType, ReadonlySet<string>>> = {
  http: new Set([...COMMON_FIELDS, ...REQUEST_FIELDS, 'retry_policy']),
  wait_for_webhook: new Set([...COMMON_FIELDS, 'timeout_seconds', 'on_timeout']),
  approval: new Set([...COMMON_FIELDS, 'message', 'timeout_seconds', 'on_timeout']),
};
const ON_TIMEOUT = { wait_for_webhook: ['fail', 'continue'], approval: ['reject', 'approve'] } as const;

export function normalizeSteps(input: unknown, field = 'steps'): { value?: StepSpec[]; problems: Problem[] } {
  if (input === undefined || input === null) return { problems: [{ field, message: 'is required: a workflow runs a non-empty list of steps' }] };
  if (!Array.isArray(input) || input.length === 0) return { problems: [{ field, message: 'must be a non-empty list of steps' }] };
  if (input.length > MAX_STEPS) return { problems: [{ field, message: `must have at most ${MAX_STEPS} steps` }] };
  const problems: Problem[] = [];
  const steps: StepSpec[] = [];
  const firstIndexOf = new Map<string, number>();
  input.forEach((raw: unknown, index) => {
    const at = `${field}[${index}]`;
    if (!isPlainObject(raw)) return void problems.push({ field: at, message: 'must be an object with an id and a type' });
    const own: Problem[] = [];
    const id = checkId(raw.id, at, own);
    if (id !== undefined) {
      const first = firstIndexOf.get(id);
      if (first !== undefined) own.push({ field: `${at}.id`, message: `duplicates ${field}[${first}].id ("${id}"); step ids are unique in a job` });
      else firstIndexOf.set(id, index);
    }
    const step = normalizeStep(raw, at, own);
    // Only a well-formed id is quoted back: anything else could be huge or unprintable.
    const label = typeof raw.id === 'string' && STEP_ID.test(raw.id) ? ` (step "${raw.id}")` : '';
    problems.push(...own.map((p) => ({ field: p.field, message: p.message + label })));
    if (step && id !== undefined) steps.push({ ...step, id } as StepSpec);
  });
  return problems.length > 0 ? { problems } : { value: steps, problems };
}

type StepWithoutId = Omit<HttpStepSpec, 'id'> | Omit<WaitForWebhookStepSpec, 'id'> | Omit<ApprovalStepSpec, 'id'>;

function normalizeStep(raw: Record<string, unknown>, at: string, problems: Problem[]): StepWithoutId | undefined {
  const type = checkType(raw.type, at, problems);
  const extract = normalizeExtraction(raw.extract, `${at}.extract`, problems);
  const toContext = normalizeExtraction(raw.extract_to_context, `${at}.extract_to_context`, problems);
  if (extract && toContext) {
    for (const [name, path] of Object.entries(toContext)) {
      if (Object.hasOwn(extract, name) && extract[name] !== path) {
        problems.push({ field: `${at}.extract_to_context.${name}`, message: `is also in extract with another path; extract_to_context already puts "${name}" in the execution's context` });
      }
    }
  }
  if (type === undefined) return undefined;
  for (const key of Object.keys(raw)) {
    if (!FIELDS_BY_TYPE[type].has(key)) problems.push({ field: `${at}.${key}`, message: `is not a field of ${type} steps` });
  }
  const extraction = { ...(extract ? { extract } : {}), ...(toContext ? { extract_to_context: toContext } : {}) };
  switch (type) {
    case 'http': {
      const request = normalizeRequest(raw as RequestInput, at, WORKFLOW_VARIABLES);
      const retry = normalizeRetryPolicy(raw.retry_policy, `${at}.retry_policy`);
      problems.push(...request.problems, ...retry.problems);
      if (!request.value || !retry.value) return undefined;
      return { type, ...request.value, retry_policy: retry.value, ...extraction };
    }
    case 'wait_for_webhook': {
      const timeout = checkParkTimeout(raw.timeout_seconds, at, problems);
      const onTimeout = checkOnTimeout(raw.on_timeout, ON_TIMEOUT.wait_for_webhook, at, problems);
      if (timeout === undefined || onTimeout === undefined) return undefined;
      return { type, timeout_seconds: timeout, on_timeout: onTimeout, ...extraction };
    }
    case 'approval': {
      const message = checkMessage(raw.message, at, problems);
      const timeout = checkParkTimeout(raw.timeout_seconds, at, problems);
      const onTimeout = checkOnTimeout(raw.on_timeout, ON_TIMEOUT.approval, at, problems);
      if (message === undefined || timeout === undefined || onTimeout === undefined) return undefined;
      return { type, message, timeout_seconds: timeout, on_timeout: onTimeout, ...extraction };
    }
  }
}

function checkId(value: unknown, at: string, problems: Problem[]): string | undefined {
  if (value === undefined || value === null) return void problems.push({ field: `${at}.id`, message: 'is required' });
  if (typeof value !== 'string' || !STEP_ID.test(value)) {
    return void problems.push({ field: `${at}.id`, message: 'must be 1-64 characters of a-z, 0-9, _ and -' });
  }
  return value;
}

function checkType(value: unknown, at: string, problems: Problem[]): StepType | undefined {
  if (value === undefined || value === null) return void problems.push({ field: `${at}.type`, message: `is required: one of ${STEP_TYPES.join(', ')}` });
  if (!STEP_TYPES.includes(value as StepType)) {
    const shown = typeof value === 'string' ? `"${value.slice(0, 40)}" is not a step type` : 'is not a step type';
    return void problems.push({ field: `${at}.type`, message: `${shown}: must be one of ${STEP_TYPES.join(', ')}` });
  }
  return value as StepType;
}

/** `null` (the default) parks for the rest of the workflow's duration. */
function checkParkTimeout(value: unknown, at: string, problems: Problem[]): number | null | undefined {
  if (value === undefined || value === null) return null;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_PARK_TIMEOUT_SECONDS) {
    return void problems.push({ field: `${at}.timeout_seconds`, message: `must be an integer from 1 to ${MAX_PARK_TIMEOUT_SECONDS}, or null for the rest of the workflow` });
  }
  return value as number;
}

function checkOnTimeout<T extends string>(value: unknown, allowed: readonly T[], at: string, problems: Problem[]): T | undefined {
  if (value === undefined || value === null) return allowed[0];
  if (!allowed.includes(value as T)) return void problems.push({ field: `${at}.on_timeout`, message: `must be one of ${allowed.join(', ')}` });
  return value as T;
}

function checkMessage(value: unknown, at: string, problems: Problem[]): string | undefined {
  const field = `${at}.message`;
  if (value === undefined || value === null) return void problems.push({ field, message: 'is required: the text the reviewer sees' });
  if (typeof value !== 'string' || value.trim().length === 0) return void problems.push({ field, message: 'must be a non-empty string' });
  if (value.length > MAX_APPROVAL_MESSAGE_LENGTH) return void problems.push({ field, message: `must be at most ${MAX_APPROVAL_MESSAGE_LENGTH} characters` });
  const templateProblems = checkTemplates(value, WORKFLOW_VARIABLES, field);
  problems.push(...templateProblems);
  return templateProblems.length > 0 ? undefined : value;
}

/** `extract` / `extract_to_context`: a flat object of names to JSONPath strings; absent or null means none. */
export function normalizeExtraction(input: unknown, field: string, problems: Problem[]): ExtractionSpec | undefined {
  if (input === undefined || input === null) return undefined;
  if (!isPlainObject(input)) return void problems.push({ field, message: 'must be an object of names to JSONPath strings, e.g. {"order_id": "$.order.id"}' });
  const entries = Object.entries(input);
  if (entries.length > MAX_EXTRACTIONS_PER_STEP) return void problems.push({ field, message: `must have at most ${MAX_EXTRACTIONS_PER_STEP} names` });
  const before = problems.length;
  for (const [name, path] of entries) {
    const at = `${field}.${name}`;
    if (!EXTRACTION_NAME.test(name)) {
      problems.push({ field: at, message: 'is not a valid name: a letter or _, then letters, digits and _, at most 64 characters' });
    } else if (FORBIDDEN_SEGMENTS.has(name)) {
      problems.push({ field: at, message: `is a reserved name` });
    } else if (typeof path !== 'string') {
      problems.push({ field: at, message: 'must be a JSONPath string such as "$.order.id"' });
    } else {
      try {
        parseJsonPath(path);
      } catch (error) {
        if (!(error instanceof JsonPathSyntaxError)) throw error;
        problems.push({ field: at, message: `is not a valid JSONPath: ${error.reason} at position ${error.position}` });
      }
    }
  }
  // fromEntries defines own properties, so even a hostile key cannot reach a prototype.
  return problems.length > before ? undefined : Object.fromEntries(entries as [string, string][]);
}
