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

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

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

  static validation(fields: FieldProblem[], message?: string): ApiError {
    const summary = message ?? `Invalid request: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`;
    return new ApiError('validation_failed', summary, { fields });
  }

  static notFound(what: string): ApiError {
    return new ApiError('not_found', `${what} not found`);
  }

  static forbidden(message = 'Your role does not allow this'): ApiError {
    return new ApiError('forbidden', message);
  }

  static unauthorized(message = 'Missing or invalid credentials'): ApiError {
    return new ApiError('unauthorized', message);
  }

  /** A dependency did not answer; nothing the client sent is wrong, and the same request may be repeated after `retryAfterSeconds`. */
  static unavailable(message: string, retryAfterSeconds: number, details: Record<string, unknown> | null = null): ApiError {
    return new ApiError('unavailable', message, details, { 'retry-after': String(retryAfterSeconds) });
  }

  static conflict(message: string, details: Record<string, unknown> | null = null): ApiError {
    return new ApiError('conflict', message, details);
  }
}
