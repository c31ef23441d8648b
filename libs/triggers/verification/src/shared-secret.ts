import { sameSecret } from './digests';
import { readHeader } from './headers';
import { refused, type VerificationResult, type WebhookHeaders } from './verification';

/** `Authorization: Bearer <token>`; the scheme name is case-insensitive (RFC 9110 §11.1). */
const BEARER = /^bearer +(\S.*)$/i;

/**
 * Checks the job's `webhook_secret` against the delivery's `X-Webhook-Secret`, or, when that
 * header is absent, its `Authorization: Bearer` token. One candidate is compared, never both:
 * a wrong `X-Webhook-Secret` is refused even if the bearer token would match, so what
 * authenticates a delivery never depends on which header an attacker adds.
 */
export function verifySharedSecret(secret: string, headers: WebhookHeaders): VerificationResult {
  if (typeof secret !== 'string' || secret === '') return refused('invalid_configuration', 'the job has no webhook_secret to compare with');
  const candidate = presentedSecret(headers);
  if (typeof candidate !== 'string') return refused('missing_secret', candidate.detail);
  if (!sameSecret(candidate, secret)) return refused('secret_mismatch', 'the presented secret does not match the job\'s webhook_secret');
  return { ok: true, by: ['shared_secret'] };
}

function presentedSecret(headers: WebhookHeaders): string | { detail: string } {
  const explicit = readHeader(headers, 'x-webhook-secret');
  if (explicit !== undefined) return explicit;
  const authorization = readHeader(headers, 'authorization');
  if (authorization === undefined) return { detail: 'neither x-webhook-secret nor authorization is present' };
  const bearer = BEARER.exec(authorization);
  return bearer ? bearer[1]! : { detail: 'authorization is not a Bearer credential' };
}
