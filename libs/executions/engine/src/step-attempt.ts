import type { AttemptRecord, HttpStepSpec } from '@trigrun/execution-contracts';
import type { GuardedHttpClient } from '@trigrun/http-client';
import { type ResponseMatcher, evaluateMatcher } from '@trigrun/response-matching';
import { attemptRecordOf, outboundRequestOf } from './attempt';
import type { SecretReferences, SecretResolver } from './request-attempt';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

export interface StepAttemptInput {
  readonly workspaceId: string;
  readonly executionId: string;
  readonly step: HttpStepSpec;
  readonly number: number;
  /** The request as rendered when the step started (StepStarted.input): sent as is, never rendered again. */
  readonly request: { method: string; url: string; headers: Record<string, string>; body?: unknown };
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * One attempt of an http step (SPEC §3, §8, §9, §14): secrets substituted into the recorded header
 * values (names come from the step definition, never from rendered text), the platform's headers
 * added (`X-Cron-Service-Execution-Id`, `Idempotency-Key: <execution_id>:<step_id>`), sent through
 * the guarded client, secret values redacted from what is recorded, the matcher evaluated. Returns
 * the attempt and the parsed body (JSON when it parses, else text) for `extract`.
 */
export async function performStepAttempt(
  deps: { http: GuardedHttpClient; secrets: SecretResolver; references: SecretReferences; now: () => Date },
  input: StepAttemptInput,
): Promise<{ attempt: AttemptRecord; responseBody: unknown }> {
  const { step } = input;
  const names = deps.references.secretNamesIn(step.headers as Record<string, string>);
  const values = names.length > 0 ? await deps.secrets.resolve(input.workspaceId, names) : new Map<string, string>();
  const { headers, missing } = deps.references.substituteSecrets(input.request.headers, values);
  const outbound = outboundRequestOf(
    {
      url: input.request.url,
      method: step.method,
      headers: { ...headers, [IDEMPOTENCY_KEY_HEADER]: `${input.executionId}:${step.id}` },
      body: input.request.body,
      timeout_seconds: step.timeout_seconds,
      success_statuses: step.success_statuses,
    },
    input.executionId,
  );
  const startedAt = deps.now();
  const result = await deps.http.send({ ...outbound, timeoutMs: input.timeoutMs, signal: input.signal });
  let attempt = attemptRecordOf(input.number, startedAt, result, step.success_statuses);
  let responseBody: unknown = null;
  const secretValues = [...values.values()];
  if (result.kind === 'response') {
    let text = result.body.toString('utf8');
    if (secretValues.length > 0) text = deps.references.redactSecrets(text, secretValues);
    if (attempt.status === 'SUCCESS' && step.response_matcher) {
      const match = evaluateMatcher(step.response_matcher as ResponseMatcher, { status: result.status, headers: result.headers, body: text });
      if (!match.ok) attempt = { ...attempt, status: 'MATCH_FAILED', errorClass: 'MatchFailed', errorMessage: `response matcher failed: ${match.rule}` };
    }
    responseBody = parseBody(text);
  }
  if (secretValues.length > 0) {
    const redact = (t: string) => deps.references.redactSecrets(t, secretValues);
    attempt = {
      ...attempt,
      bodyPreview: attempt.bodyPreview === null ? null : redact(attempt.bodyPreview),
      responseHeaders: Object.fromEntries(Object.entries(attempt.responseHeaders).map(([k, v]) => [k, redact(v)])),
      errorMessage: attempt.errorMessage === null ? null : redact(attempt.errorMessage),
    };
  }
  if (missing.length > 0) attempt = { ...attempt, missingSecrets: missing };
  return { attempt, responseBody };
}

function parseBody(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
