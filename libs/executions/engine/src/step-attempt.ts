import { type AttemptRecord, type HttpStepSpec, storableJson } from '@trigrun/execution-contracts';
import type { GuardedHttpClient } from '@trigrun/http-client';
import { attemptRecordOf, outboundRequestOf } from './attempt';
import { type SecretReferences, type SecretResolver, recordedAttempt, sendWithSecrets, withMatcher } from './request-attempt';

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
 * the guarded client (sendWithSecrets: what comes back is already redacted), the matcher evaluated.
 * Returns the attempt and the parsed body (JSON when it parses, else text) for `extract`.
 */
export async function performStepAttempt(
  deps: { http: GuardedHttpClient; secrets: SecretResolver; references: SecretReferences; now: () => Date },
  input: StepAttemptInput,
): Promise<{ attempt: AttemptRecord; responseBody: unknown }> {
  const { step } = input;
  const sent = await sendWithSecrets(deps, {
    workspaceId: input.workspaceId,
    storedHeaders: step.headers,
    renderedHeaders: input.request.headers,
    outbound: (headers) => ({
      ...outboundRequestOf(
        {
          url: input.request.url,
          method: step.method,
          headers: { ...headers, [IDEMPOTENCY_KEY_HEADER]: `${input.executionId}:${step.id}` },
          body: input.request.body,
          timeout_seconds: step.timeout_seconds,
          success_statuses: step.success_statuses,
        },
        input.executionId,
      ),
      timeoutMs: input.timeoutMs,
      signal: input.signal,
    }),
  });
  let attempt = attemptRecordOf(input.number, sent.startedAt, sent.result, step.success_statuses);
  let responseBody: unknown = null;
  if (sent.result.kind === 'response') {
    const text = sent.result.body.toString('utf8');
    attempt = withMatcher(attempt, step.response_matcher, sent.result, text);
    // The text was redacted; the parsed value is redacted again, as a JSON string can spell a
    // secret with \u escapes that only parsing reveals. Extracted values flow into the context,
    // the context store and events from here.
    responseBody = sent.redact.value(parseBody(text));
  }
  return { attempt: recordedAttempt(attempt, sent), responseBody };
}

/**
 * The body as `extract` reads it and the events record it: JSON when it parses, else the text, in
 * a form every layer stores (docs/third-party-data.md): NUL and lone surrogates become U+FFFD, and
 * JSON nested deeper than MAX_STORED_JSON_DEPTH stays text (extraction then finds nothing in it).
 */
function parseBody(text: string): unknown {
  return storableJson(text);
}
