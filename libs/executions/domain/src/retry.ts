import type { AttemptRecord, AttemptStatus, ExecutionError, RetryPolicy } from '@trigrun/execution-contracts';

export const DEFAULT_RETRY_POLICY: RetryPolicy = { max_attempts: 3, retry_on_statuses: [429, 500, 502, 503, 504] };
export const BACKOFF_BASE_MS = 250;

/**
 * Whether attempt `attempt.number` is followed by another. Timeouts and connection errors always
 * retry (the target may never have seen the request); an HTTP status retries only when the policy
 * lists it; a response-matcher failure alone never does (the target answered, and would again).
 * Errors that no retry can fix (a blocked destination, an unusable URL) are not retried either.
 */
export function shouldRetry(
  attempt: { number: number; status: AttemptStatus; statusCode: number | null; errorClass: string | null },
  policy: RetryPolicy,
): boolean {
  if (attempt.number >= policy.max_attempts) return false;
  switch (attempt.status) {
    case 'SUCCESS':
    case 'MATCH_FAILED':
      return false;
    case 'TIMEOUT':
      return true;
    case 'CONNECTION_ERROR':
      return !PERMANENT_ERROR_CLASSES.has(attempt.errorClass ?? '');
    case 'HTTP_ERROR':
      return attempt.statusCode !== null && policy.retry_on_statuses.includes(attempt.statusCode);
    default:
      return assertNever(attempt.status);
  }
}

export const PERMANENT_ERROR_CLASSES = new Set(['DestinationBlocked', 'InvalidUrl']);

/**
 * Delay before the attempt after `attemptNumber`: 250 ms × 2^attemptNumber, spread by ±25 % so
 * that jobs failing together do not retry in lock-step. `jitter` is a random number in [0, 1)
 * supplied by the shell, which keeps this function pure.
 */
export function backoffMs(attemptNumber: number, jitter: number): number {
  const base = BACKOFF_BASE_MS * 2 ** attemptNumber;
  return Math.round(base * (0.75 + 0.5 * jitter));
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}

/** The execution error a failed, settling attempt stands for (its code classifies the failure). */
export function attemptError(attempt: AttemptRecord): ExecutionError {
  switch (attempt.status) {
    case 'SUCCESS':
      return { code: 'none', message: 'the attempt succeeded' };
    case 'TIMEOUT':
      return { code: 'timeout', message: `attempt ${attempt.number} timed out` };
    case 'CONNECTION_ERROR':
      return { code: 'connection_error', message: attempt.errorMessage ?? `attempt ${attempt.number} could not connect` };
    case 'HTTP_ERROR':
      return { code: 'http_error', message: `attempt ${attempt.number} answered HTTP ${attempt.statusCode}` };
    case 'MATCH_FAILED':
      return { code: 'match_failed', message: attempt.errorMessage ?? 'the response did not match' };
    default:
      return assertNever(attempt.status);
  }
}
