import type { AttemptRecord, RequestSpec } from '@trigrun/execution-contracts';
import type { OutboundRequest, OutboundResult } from '@trigrun/http-client';

export const BODY_PREVIEW_BYTES = 64 * 1024;
export const EXECUTION_ID_HEADER = 'X-Cron-Service-Execution-Id';

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

/** Classifies what the guarded client returned into the attempt record of SPEC §8. */
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
