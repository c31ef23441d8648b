/**
 * What an application service refuses with: a stable code, a message for people, and details for
 * programs. Transport-neutral on purpose — no status, no headers: the HTTP edge maps the code to a
 * status and the envelope (`toApiError` in @trigrun/nest), and a CLI or MCP server, which call the
 * public API, see the same codes in that envelope. The codes are part of the API contract
 * (docs/api-conventions.md): a code is added, never renamed.
 */
export type DomainErrorCode =
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'rate_limited'
  | 'quota_exceeded'
  | 'unavailable';

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> | null = null,
    /** `unavailable`, `rate_limited`: when repeating the same request makes sense. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static validation(fields: readonly FieldProblem[], message?: string): DomainError {
    const summary = message ?? `Invalid request: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`;
    return new DomainError('validation_failed', summary, { fields });
  }

  static notFound(what: string): DomainError {
    return new DomainError('not_found', `${what} not found`);
  }

  static forbidden(message = 'Your role does not allow this'): DomainError {
    return new DomainError('forbidden', message);
  }

  static unauthorized(message = 'Missing or invalid credentials'): DomainError {
    return new DomainError('unauthorized', message);
  }

  static conflict(message: string, details: Readonly<Record<string, unknown>> | null = null): DomainError {
    return new DomainError('conflict', message, details);
  }

  /** A dependency did not answer: nothing the caller sent is wrong; the same command may be repeated after `retryAfterSeconds`. */
  static unavailable(message: string, retryAfterSeconds: number, details: Readonly<Record<string, unknown>> | null = null): DomainError {
    return new DomainError('unavailable', message, details, retryAfterSeconds);
  }
}

export const isDomainError = (error: unknown): error is DomainError => error instanceof DomainError;
