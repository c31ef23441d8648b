import { storableJson } from '@trigrun/execution-contracts';
import type { SendingStep } from '@trigrun/execution-domain';
import type { Redactor } from './attempt';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/**
 * The platform's headers that depend on the step: an http step of a workflow sends
 * `Idempotency-Key: <execution_id>:<step_id>` (the same on every retry); a request job's request
 * (no step id) sends none, as it always has. `X-Cron-Service-Execution-Id` goes on every attempt
 * (outboundRequestOf).
 */
export function stepHeadersOf(step: SendingStep, executionId: string): Record<string, string> {
  return step.id === null ? {} : { [IDEMPOTENCY_KEY_HEADER]: `${executionId}:${step.id}` };
}

/**
 * What the decider reads of a response body (already redacted as text by sendWithSecrets), each
 * redacted again after parsing: a JSON string can spell a secret with \u escapes that only parsing
 * reveals (docs/secrets.md).
 * - http steps, `responseBody`: the body as `extract` reads it and the events record it — JSON when
 *   it parses, else the text, in a form every layer stores (docs/third-party-data.md): NUL and lone
 *   surrogates become U+FFFD, and JSON nested deeper than MAX_STORED_JSON_DEPTH stays text.
 * - request jobs, `parsedBody`: the whole body parsed as JSON, at any depth, which the
 *   response_output_template reads (absent when the body is not JSON). Only a success renders it.
 */
export function responseBodiesOf(step: SendingStep, text: string, success: boolean, redact: Redactor): { responseBody: unknown; parsedBody?: unknown } {
  if (step.type === 'http') return { responseBody: redact.value(storableJson(text)) };
  if (!success) return { responseBody: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    return { responseBody: null };
  }
  return { responseBody: null, parsedBody: redact.value(parsed) };
}
