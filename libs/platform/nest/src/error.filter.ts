import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describeDatabaseError, isUniqueViolation } from '@trigrun/database';
import { DomainError } from '@trigrun/util';
import { ApiError, type ErrorCode } from './api-error';
import { OUTAGE_RETRY_AFTER_SECONDS, dependencyOutage } from './outage';

const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/** fastify's own refusals before a handler runs, by their code: the message they carry may quote the URL. */
const FASTIFY_REFUSALS: Record<string, () => ApiError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () => ApiError.validation([{ field: 'body', message: 'is not valid JSON' }], 'The request body is not valid JSON'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => ApiError.validation([{ field: 'body', message: 'is empty but content-type is application/json' }]),
  FST_ERR_BAD_URL: () => ApiError.validation([{ field: 'path', message: 'is not a valid URL: a percent-escape does not decode to UTF-8 text' }], 'The URL is not valid'),
  FST_ERR_MAX_PARAM_LENGTH: () => ApiError.validation([{ field: 'path', message: 'has a segment longer than 100 characters' }], 'The URL has a path segment that is too long'),
};

/** Maps anything thrown to the documented envelope. Only unexpected errors become a 500, and those are logged. */
export function toApiError(exception: unknown): ApiError {
  if (exception instanceof ApiError) return exception;
  // An application service's refusal: its stable code, mapped to the status here at the edge.
  if (exception instanceof DomainError) return ApiError.from(exception);
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 503) return ApiError.unavailable('The service is unavailable; try again shortly', OUTAGE_RETRY_AFTER_SECONDS);
    const code = CODE_OF_STATUS[status] ?? (status >= 500 ? 'internal' : 'validation_failed');
    const message = status === 404 ? 'Route not found' : exception.message;
    return new ApiError(code, message);
  }
  // Two requests inserting the same unique thing at once: the loser is told so, whichever
  // service it reached and whether or not that service checked first.
  if (isUniqueViolation(exception)) return ApiError.conflict('This conflicts with one that already exists (another request may have created it a moment ago)');
  // Errors raised by fastify before a handler runs (body parsing, content types, limits, URLs).
  const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode < 500) {
    const known = fastifyError.code ? FASTIFY_REFUSALS[fastifyError.code] : undefined;
    if (known) return known();
    if (fastifyError.message === 'Object contains forbidden prototype property') {
      return ApiError.validation([{ field: 'body', message: 'has a "__proto__" key, which is not accepted' }], 'The request body has a "__proto__" key, which is not accepted');
    }
    if (/JSON/.test(fastifyError.message ?? '')) return FASTIFY_REFUSALS.FST_ERR_CTP_INVALID_JSON_BODY();
    return new ApiError(CODE_OF_STATUS[fastifyError.statusCode] ?? 'validation_failed', fastifyError.message ?? 'Bad request');
  }
  const outage = dependencyOutage(exception);
  if (outage) return unavailableFor(outage);
  return new ApiError('internal', 'Internal server error');
}

/** The answer to a request that met a dependency outage: never a 500, since nothing the client sent is wrong. */
export function unavailableFor(dependency: string): ApiError {
  const what = dependency === 'postgres' ? 'The database' : dependency === 'nats' ? 'The message broker' : dependency === 'redis' ? 'Redis' : 'A service this request needs';
  return ApiError.unavailable(`${what} is unavailable right now; nothing was changed by the part that failed, try again shortly`, OUTAGE_RETRY_AFTER_SECONDS, {
    dependency,
    retry_after_seconds: OUTAGE_RETRY_AFTER_SECONDS,
  });
}

/** The text an unexpected error is logged with: for database errors, never the SQL or its values. */
export function describeForLog(exception: unknown): { message: string; stack?: string } {
  const database = describeDatabaseError(exception);
  if (database) return { message: database.message, stack: database.stack };
  const error = exception as Error | undefined;
  return { message: error?.message ?? String(exception), stack: error?.stack };
}

/**
 * Answers what Node refuses before fastify sees a request (a request line or headers past
 * `maxHeaderSize`, a malformed request, a timeout) in the envelope, then closes the connection as
 * fastify's default handler does.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, body] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', new ApiError('payload_too_large', 'The request line and headers are too large (at most 16 KiB)')]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', new ApiError('validation_failed', 'The request did not arrive in time')]
        : [400, 'Bad Request', new ApiError('validation_failed', 'The request is not valid HTTP')];
  const text = JSON.stringify(body.toBody());
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${text}`);
  }
  socket.destroy(error);
}

/** The dependencies' state right now, as readiness sees it (Infrastructure.readiness). */
export type DependencyProbe = () => Promise<{ readonly checks: Readonly<Record<string, 'up' | 'down'>> }>;

/** How long an unexplained error waits for the dependency probe before it is answered as a 500. */
export const OUTAGE_PROBE_MS = 1_500;

@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  /**
   * `probe`: asked when an error is not recognised. The classifier (outage.ts) knows the errors
   * the clients are known to throw; a client can also fail in a way nobody listed (a transaction
   * whose connection died between two statements surfaces as whatever the next layer makes of
   * it). An error that meets a dependency that is down at that moment is answered as that
   * outage — the client's request was not at fault, and repeating it later is right — and logged
   * with its message, so the classifier can learn it.
   */
  constructor(private readonly probe?: DependencyProbe) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const raw = http.getRequest<FastifyRequest>().raw;
    const error = toApiError(exception);
    if (error.code === 'internal' && this.probe) {
      void this.duringOutage().then((dependency) => {
        if (dependency) {
          this.logger.warn(`error during a ${dependency} outage, answered 503: ${describeForLog(exception).message}`);
          sendError(reply, raw, unavailableFor(dependency));
        } else {
          this.logUnexpected(exception);
          sendError(reply, raw, error);
        }
      });
      return;
    }
    if (error.code === 'internal') this.logUnexpected(exception);
    else if (error.code === 'unavailable' && !(exception instanceof ApiError) && !(exception instanceof DomainError)) {
      // One line, no stack: an outage is many of these at once, and the stack says nothing new.
      // A refusal thrown on purpose (ApiError, DomainError) was logged, if at all, by its thrower.
      this.logger.warn(`dependency unavailable (${String(error.details?.dependency)}): ${describeForLog(exception).message}`);
    }
    sendError(reply, raw, error);
  }

  private logUnexpected(exception: unknown): void {
    const { message, stack } = describeForLog(exception);
    this.logger.error(`unhandled error: ${message}`, stack);
  }

  /** The first dependency the probe finds down, within OUTAGE_PROBE_MS; null when all are up (or the probe failed). */
  private async duringOutage(): Promise<string | null> {
    try {
      const result = await Promise.race([this.probe!(), new Promise<null>((resolve) => setTimeout(() => resolve(null), OUTAGE_PROBE_MS).unref())]);
      if (!result) return null;
      return Object.entries(result.checks).find(([, state]) => state === 'down')?.[0] ?? null;
    } catch {
      return null;
    }
  }
}

/**
 * Sends `error` in the envelope. A body refused for its size is still on its way: answering and
 * closing at once makes a client that is still writing fail with EPIPE and never see the 413
 * (fetch does). The rest is read and thrown away first, within bounds, as servers' "lingering
 * close" does.
 */
export function sendError(reply: FastifyReply, raw: IncomingMessage, error: ApiError): void {
  const send = () => void reply.status(error.status).headers(error.headers).header('content-type', 'application/json; charset=utf-8').send(error.toBody());
  if (error.status === 413) void discardBody(raw).then(send);
  else send();
}

/** At most this much of a refused body is read and thrown away before the 413 goes out; then the connection closes. */
export const MAX_DISCARDED_BODY_BYTES = 64 * 1024 * 1024;
const MAX_DISCARD_MS = 10_000;

/** Reads a request's remaining body into nothing; resolves when it ended, or the bounds ran out. */
export function discardBody(raw: IncomingMessage, maxBytes = MAX_DISCARDED_BODY_BYTES, maxMs = MAX_DISCARD_MS): Promise<void> {
  if (raw.complete || raw.destroyed || raw.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', done).off('error', done).off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) done();
    };
    const timer = setTimeout(done, maxMs);
    raw.on('data', onData).once('end', done).once('error', done).once('close', done);
    raw.resume();
  });
}
