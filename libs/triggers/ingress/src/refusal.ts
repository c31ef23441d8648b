/**
 * Why an inbound trigger request is not taken: a status and a stable code of the public error
 * envelope (docs/api-conventions.md), a message for people and the envelope's details. A value,
 * not an exception: the HTTP edge answers it as `{error: {code, message, details}}` and records
 * nothing.
 */
export type IngressRefusal =
  | {
      readonly ok: false;
      readonly status: 400;
      readonly code: 'validation_failed';
      readonly message: string;
      /** The envelope's `validation_failed` details: which part of the request (`body`, `headers.idempotency-key`). */
      readonly details: { readonly fields: readonly [{ readonly field: string; readonly message: string }] };
    }
  | { readonly ok: false; readonly status: 413; readonly code: 'payload_too_large'; readonly message: string; readonly details: null };

/** A 400 about one part of the request; the message reads `Invalid request: <field> <problem>` like every other 400. */
export function invalid(field: string, problem: string): IngressRefusal {
  return { ok: false, status: 400, code: 'validation_failed', message: `Invalid request: ${field} ${problem}`, details: { fields: [{ field, message: problem }] } };
}

export function tooLarge(message: string): IngressRefusal {
  return { ok: false, status: 413, code: 'payload_too_large', message, details: null };
}
