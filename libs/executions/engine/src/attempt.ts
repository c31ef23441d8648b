import type { AttemptRecord, RequestSpec } from '@trigrun/execution-contracts';
import type { OutboundRequest, OutboundResult } from '@trigrun/http-client';

export const BODY_PREVIEW_BYTES = 64 * 1024;
export const EXECUTION_ID_HEADER = 'X-Cron-Service-Execution-Id';

/**
 * The redaction step of @trigrun/secrets (`secretRedactor`), described here by its shape so this
 * lib stays free of that lib's Nest and ORM parts. docs/secrets.md says what it catches.
 */
export interface Redactor {
  /** False when the send used no secret: everything passes unchanged. */
  readonly active: boolean;
  /** `cut`: the text was cut short, so the beginning of a secret at its very end goes too. */
  text(text: string, opts?: { cut?: boolean }): string;
  /** A parsed or rendered value: keys, strings and numbers, at any depth. */
  value(value: unknown): unknown;
}

/** The outbound request of one attempt: the job's request plus the platform's headers. */
export function outboundRequestOf(request: RequestSpec, executionId: string): OutboundRequest {
  const headers: Record<string, string> = { ...request.headers, [EXECUTION_ID_HEADER]: executionId };
  let body: string | undefined;
  if (request.body !== undefined && request.body !== null) {
    if (typeof request.body === 'string') {
      body = request.body;
    } else {
      // Objects and other JSON values are sent as JSON; a job-set Content-Type wins.
      body = JSON.stringify(request.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
    }
  }
  return { url: request.url, method: request.method, headers, body, timeoutMs: request.timeout_seconds * 1000 };
}

/** Classifies what the guarded client returned into the attempt record of docs/executions.md. */
export function attemptRecordOf(number: number, startedAt: Date, result: OutboundResult, successStatuses: readonly number[]): AttemptRecord {
  const base = { number, startedAt: startedAt.toISOString(), latencyMs: Math.round(result.latencyMs) };
  switch (result.kind) {
    case 'response':
      return {
        ...base,
        status: successStatuses.includes(result.status) ? 'SUCCESS' : 'HTTP_ERROR',
        statusCode: result.status,
        bodyPreview: previewOf(result.body),
        responseHeaders: result.headers,
        errorClass: null,
        errorMessage: successStatuses.includes(result.status) ? null : `HTTP ${result.status} is not in success_statuses`,
      };
    case 'timeout':
      return { ...base, status: 'TIMEOUT', statusCode: null, bodyPreview: null, responseHeaders: {}, errorClass: 'Timeout', errorMessage: result.message };
    case 'connection_error':
      return {
        ...base,
        status: 'CONNECTION_ERROR',
        statusCode: null,
        bodyPreview: null,
        responseHeaders: {},
        errorClass: result.code ?? 'ConnectionError',
        errorMessage: result.message,
      };
    case 'blocked':
      return {
        ...base,
        status: 'CONNECTION_ERROR',
        statusCode: null,
        bodyPreview: null,
        responseHeaders: {},
        errorClass: 'DestinationBlocked',
        errorMessage: result.message,
      };
    case 'invalid_url':
      return { ...base, status: 'CONNECTION_ERROR', statusCode: null, bodyPreview: null, responseHeaders: {}, errorClass: 'InvalidUrl', errorMessage: result.message };
  }
}

/**
 * The guarded client's result as the engine may use it: body, header names and values, messages
 * and the final URL with every spelling of the send's secrets redacted. The whole body is redacted
 * before anything reads or cuts it, so a secret across the 64 KiB preview boundary cannot leave its
 * first characters in the preview (nor one across the client's 1 MiB limit, see `cut`), and
 * matchers, output templates and `extract` see what is recorded.
 */
export function redactedResult(result: OutboundResult, redact: Redactor): OutboundResult {
  if (!redact.active) return result;
  if (result.kind !== 'response') return { ...result, message: redact.text(result.message) };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers)) {
    const key = redact.text(name);
    const redacted = redact.text(value);
    // Two names that redact alike are joined as a repeated header is; fromEntries-like, `__proto__` stays a header.
    const joined = Object.prototype.hasOwnProperty.call(headers, key) ? `${headers[key]}, ${redacted}` : redacted;
    Object.defineProperty(headers, key, { value: joined, enumerable: true, writable: true, configurable: true });
  }
  // A body cut at the client's size limit may end in the first characters of a secret.
  const body = Buffer.from(redact.text(result.body.toString('utf8'), { cut: result.truncated }));
  return { ...result, headers, body, finalUrl: redact.text(result.finalUrl) };
}

/**
 * At most 64 KiB of the body, cut on a character boundary so the preview is valid UTF-8. NUL
 * characters (binary bodies) become U+FFFD: PostgreSQL's jsonb cannot store them.
 */
export function previewOf(body: Buffer): string {
  let end = body.length;
  if (end > BODY_PREVIEW_BYTES) {
    end = BODY_PREVIEW_BYTES;
    while (end > 0 && (body[end] & 0xc0) === 0x80) end--;
  }
  return body.subarray(0, end).toString('utf8').replaceAll('\u0000', '\uFFFD');
}
