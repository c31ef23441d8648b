import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
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
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    void reply.status(error.status).header('content-type', 'application/json; charset=utf-8').send(error.toBody());
  }
}
