import { EVENT_SCHEMA_VERSION, EXECUTION_EVENT_TYPES, type ExecutionEvent, type ExecutionEventType, WITHDRAWAL_REASONS, type WithdrawalReason } from './events';

export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

type Check = (value: unknown) => boolean;
const isString: Check = (v) => typeof v === 'string';
const isNullableString: Check = (v) => v === null || typeof v === 'string';
const isObject: Check = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPositiveInt: Check = (v) => Number.isInteger(v) && (v as number) > 0;
const isIsoTime: Check = (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
const isIntList: Check = (v) => Array.isArray(v) && v.every((x) => Number.isInteger(x));
const has = (shape: Record<string, Check>): Check => (v) => isObject(v) && Object.entries(shape).every(([k, check]) => check((v as Record<string, unknown>)[k]));

const isRequest = has({ url: isString, method: isString, headers: isObject, timeout_seconds: isPositiveInt, success_statuses: isIntList });
const isRetryPolicy = has({ max_attempts: isPositiveInt, retry_on_statuses: isIntList });
const isStep: Check = (v) => {
  if (!has({ id: isString, type: isString })(v)) return false;
  const step = v as { type: string };
  if (step.type === 'http') return isRequest(v) && has({ retry_policy: isRetryPolicy })(v);
  if (step.type === 'approval') return has({ message: isString })(v);
  return step.type === 'wait_for_webhook';
};
/** The parts of a job snapshot the engine relies on: a request, or a list of steps. */
const isJobSnapshot: Check = (v) =>
  has({ name: isString, kind: isString, retry_policy: isRetryPolicy })(v) &&
  (isRequest((v as { request?: unknown }).request) ||
    (Array.isArray((v as { steps?: unknown }).steps) && ((v as { steps: unknown[] }).steps).every(isStep)));
const isAttempt = has({
  number: isPositiveInt,
  status: (v) => ['SUCCESS', 'TIMEOUT', 'CONNECTION_ERROR', 'HTTP_ERROR', 'MATCH_FAILED'].includes(v as string),
  statusCode: (v) => v === null || Number.isInteger(v),
  latencyMs: (v) => typeof v === 'number' && v >= 0,
  bodyPreview: isNullableString,
  responseHeaders: isObject,
  errorClass: isNullableString,
  startedAt: isIsoTime,
});

/** Required data fields per type; a consumer rejects (and parks) anything that does not fit. */
const DATA_SCHEMAS: Record<ExecutionEventType, Record<string, Check>> = {
  ExecutionQueued: {
    job: isJobSnapshot,
    trigger: (v) => ['schedule', 'manual', 'webhook', 'replay'].includes(v as string),
    scheduled_for: isNullableString,
    replay_of: isNullableString,
  },
  ExecutionStarted: {
    variables: has({ uuid: isString, timestamp: isString, execution_id: isString }),
    first_attempt_by: (v) => v === undefined || v === 'starter',
  },
  AttemptRecorded: {
    step_id: isNullableString,
    attempt: isAttempt,
    next_attempt_at: (v) => v === null || isIsoTime(v),
  },
  StepStarted: { step_id: isString, type: isString, index: (v) => Number.isInteger(v) && (v as number) >= 0 },
  StepCompleted: { step_id: isString, extracted: isObject, context_updates: isObject },
  StepFailed: {
    step_id: isString,
    status: (v) => ['failed', 'rejected', 'timed_out'].includes(v as string),
    error: (v) => isObject(v) && isString((v as { code: unknown }).code) && isString((v as { message: unknown }).message),
  },
  ExecutionParked: {
    step_id: isString,
    reason: (v) => v === 'webhook' || v === 'approval',
    token_hash: isString,
    token_sealed: has({ ciphertext: isString, key_version: isPositiveInt }),
    expires_at: isIsoTime,
  },
  ExecutionResumed: { step_id: isString, via: (v) => ['resume', 'approval', 'timeout'].includes(v as string) },
  ExecutionSucceeded: {},
  ExecutionFailed: {
    error: (v) => isObject(v) && isString((v as { code: unknown }).code) && isString((v as { message: unknown }).message),
  },
  ExecutionWithdrawn: { reason: (v) => WITHDRAWAL_REASONS.includes(v as WithdrawalReason) },
};

const ENVELOPE: Record<string, Check> = {
  id: isString,
  execution_id: isString,
  job_id: isString,
  workspace_id: isString,
  occurred_at: isIsoTime,
  position: isPositiveInt,
  data: isObject,
};

/** Validates a decoded message against the envelope and the schema of its type. */
export function parseExecutionEvent(value: unknown): ExecutionEvent {
  if (!isObject(value)) throw new InvalidEventError('event is not an object');
  const raw = value as Record<string, unknown>;
  if (!EXECUTION_EVENT_TYPES.includes(raw.type as ExecutionEventType)) {
    throw new InvalidEventError(`unknown event type ${JSON.stringify(raw.type)}`);
  }
  if (raw.version !== EVENT_SCHEMA_VERSION) {
    throw new InvalidEventError(`${raw.type as string} version ${JSON.stringify(raw.version)} is not supported`);
  }
  for (const [field, check] of Object.entries(ENVELOPE)) {
    if (!check(raw[field])) throw new InvalidEventError(`${raw.type as string}: envelope field "${field}" is invalid`);
  }
  const data = raw.data as Record<string, unknown>;
  for (const [field, check] of Object.entries(DATA_SCHEMAS[raw.type as ExecutionEventType])) {
    if (!check(data[field])) throw new InvalidEventError(`${raw.type as string}: data field "${field}" is invalid`);
  }
  return value as ExecutionEvent;
}
