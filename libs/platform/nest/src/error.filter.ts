import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type ErrorCode } from './api-error';

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

/** Maps anything thrown to the documented envelope. Only unexpected errors become a 500, and those are logged. */
export function toApiError(exception: unknown): ApiError {
  if (exception instanceof ApiError) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = CODE_OF_STATUS[status] ?? (status >= 500 ? 'internal' : 'validation_failed');
    const message = status === 404 ? 'Route not found' : exception.message;
    return new ApiError(code, message);
  }
  // Errors raised by fastify before a handler runs (body parsing, content types, limits).
  const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode < 500) {
    const status = fastifyError.statusCode;
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || /JSON/.test(fastifyError.message ?? '')) {
      return ApiError.validation([{ field: 'body', message: 'is not valid JSON' }], 'The request body is not valid JSON');
    }
    if (fastifyError.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return ApiError.validation([{ field: 'body', message: 'is empty but content-type is application/json' }]);
    }
    return new ApiError(CODE_OF_STATUS[status] ?? 'validation_failed', fastifyError.message ?? 'Bad request');
  }
  return new ApiError('internal', 'Internal server error');
}

@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const error = toApiError(exception);
    if (error.code === 'internal') {
      this.logger.error(`unhandled error: ${(exception as Error)?.message ?? String(exception)}`, (exception as Error)?.stack);
    }
    const http = host.switchToHttp();
    sendError(http.getResponse<FastifyReply>(), http.getRequest<FastifyRequest>().raw, error);
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
