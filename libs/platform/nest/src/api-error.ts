import { DomainError, type FieldProblem } from '@trigrun/util';

/**
 * An error the API answers with on purpose, in the envelope of docs/api-conventions.md:
 *   {"error": {"code": "<snake_case>", "message": "...", "details": {...} | null}}
 */
export type ErrorCode =
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'quota_exceeded'
  | 'internal'
  | 'unavailable';

export const STATUS_OF: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  quota_exceeded: 403,
  internal: 500,
  unavailable: 503,
};

export type { FieldProblem };

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> | null = null,
    /** Sent with the answer, e.g. `Retry-After`. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get status(): number {
    return STATUS_OF[this.code];
  }

  toBody() {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }

  /**
   * The envelope of an application service's refusal: same code, message and details; the status
   * and `Retry-After` are the edge's. The factories below build theirs this way, so a refusal reads
   * the same whichever side raised it (the summary of a validation, for one, is DomainError's).
   */
  static from(error: DomainError): ApiError {
    const headers: Record<string, string> = error.retryAfterSeconds !== undefined ? { 'retry-after': String(error.retryAfterSeconds) } : {};
    return new ApiError(error.code, error.message, error.details ? { ...error.details } : null, headers);
  }

  static validation(fields: FieldProblem[], message?: string): ApiError {
    return ApiError.from(DomainError.validation(fields, message));
  }

  static notFound(what: string): ApiError {
    return ApiError.from(DomainError.notFound(what));
  }

  static forbidden(message?: string): ApiError {
    return ApiError.from(DomainError.forbidden(message));
  }

  static unauthorized(message?: string): ApiError {
    return ApiError.from(DomainError.unauthorized(message));
  }

  /** A dependency did not answer; nothing the client sent is wrong, and the same request may be repeated after `retryAfterSeconds`. */
  static unavailable(message: string, retryAfterSeconds: number, details: Record<string, unknown> | null = null): ApiError {
    return ApiError.from(DomainError.unavailable(message, retryAfterSeconds, details));
  }

  static conflict(message: string, details: Record<string, unknown> | null = null): ApiError {
    return ApiError.from(DomainError.conflict(message, details));
  }
}
