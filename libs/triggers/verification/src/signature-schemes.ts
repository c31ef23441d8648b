import { types } from 'node:util';
import { anyDigestMatches, hmacSha256, utf8 } from './digests';
import { checkTolerance, parseUnixSeconds, readSignatureHeader } from './headers';
import { verifyStandardWebhook } from './standard-webhooks';
import {
  DEFAULT_TOLERANCE_SECONDS,
  type HmacEncoding,
  MAX_TOLERANCE_SECONDS,
  type Refused,
  refused,
  type VerificationResult,
  type WebhookDelivery,
  type WebhookVerification,
} from './verification';

/**
 * Checks a delivery's signature as the job's `webhook_verification` says. Every scheme signs the
 * raw body bytes with HMAC-SHA256; they differ in where the signature travels, what else is
 * signed with the body, and how it is written (README, "Schemes"). Nothing here throws: an
 * absent, garbled, duplicated or oversized header, a non-numeric timestamp, a wrong secret all
 * become a `Refused` with a stable reason.
 */
export function verifySignature(verification: WebhookVerification, delivery: WebhookDelivery): VerificationResult {
  const input = checkInput(verification, delivery);
  if (input) return input;
  const key = utf8(verification.secret);
  switch (verification.scheme) {
    case 'standard_webhooks':
      return verifyStandardWebhook(verification.secret, tolerance(verification.tolerance_seconds), delivery);
    case 'github':
      return verifyGithub(key, delivery);
    case 'stripe':
      return verifyStripe(key, tolerance(verification.tolerance_seconds), delivery);
    case 'slack':
      return verifySlack(key, tolerance(verification.tolerance_seconds), delivery);
    case 'hmac_sha256':
      return verifyHmacSha256(key, verification.header, verification.encoding, delivery);
    default: {
      const unknown: never = verification;
      return refused('invalid_configuration', `unknown scheme ${String((unknown as { scheme?: unknown }).scheme)}`);
    }
  }
}

/**
 * The caller's half of the contract, checked so that a bug there is a refusal, not a throw (or,
 * worse, a NaN window that accepts everything). `types.isUint8Array` rather than `instanceof`:
 * a Buffer from another realm (a jest sandbox, a worker) is still bytes.
 */
function checkInput(verification: WebhookVerification, delivery: WebhookDelivery): Refused | undefined {
  if (typeof verification !== 'object' || verification === null || typeof verification.secret !== 'string' || verification.secret === '') {
    return refused('invalid_configuration', 'webhook_verification has no secret');
  }
  if (typeof delivery !== 'object' || delivery === null || !types.isUint8Array(delivery.body)) return refused('invalid_input', 'the body is not bytes');
  if (!(delivery.now instanceof Date) || !Number.isFinite(delivery.now.getTime())) return refused('invalid_input', 'now is not a valid date');
  return undefined;
}

/** A stored value out of range (or absent, in a configuration from before the default) falls back to the default rather than to a window that is infinite or empty. */
const tolerance = (seconds: number | undefined): number =>
  Number.isInteger(seconds) && seconds! >= 1 && seconds! <= MAX_TOLERANCE_SECONDS ? seconds! : DEFAULT_TOLERANCE_SECONDS;

/** 32 bytes as 64 hex digits; `Buffer.from(x, 'hex')` alone would stop quietly at the first bad digit. */
const HEX_DIGEST = /^[0-9a-f]{64}$/i;
/** 32 bytes as base64 (standard or URL-safe alphabet, padding optional); the last digit carries 2 bits, so only these 16 letters end a canonical value. */
const BASE64_DIGEST = /^[A-Za-z0-9+/_-]{42}[AEIMQUYcgkosw048]=?$/;

const hexDigest = (text: string): Buffer | undefined => (HEX_DIGEST.test(text) ? Buffer.from(text, 'hex') : undefined);
const base64Digest = (text: string): Buffer | undefined => (BASE64_DIGEST.test(text) ? Buffer.from(text, 'base64') : undefined);

/** GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body alone (no timestamp, so no replay window). */
function verifyGithub(key: Uint8Array, { body, headers }: WebhookDelivery): VerificationResult {
  const header = readSignatureHeader(headers, 'x-hub-signature-256', 'missing_signature', 'malformed_signature');
  if (typeof header !== 'string') return header;
  const given = header.startsWith('sha256=') ? hexDigest(header.slice('sha256='.length)) : undefined;
  if (!given) return refused('malformed_signature', 'x-hub-signature-256 is not sha256=<64 hex digits>');
  if (!anyDigestMatches(hmacSha256(key, body), [given])) return refused('signature_mismatch', 'x-hub-signature-256 does not match the body');
  return { ok: true, by: ['github'] };
}

/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]` over `${t}.${body}`. Several v1
 * entries appear while a secret is being rolled; any one matching passes. Other entries (v0, a
 * future scheme) are ignored, as Stripe's own library does; a second `t` (two headers joined) is
 * ambiguous and refused.
 */
function verifyStripe(key: Uint8Array, toleranceSeconds: number, { body, headers, now }: WebhookDelivery): VerificationResult {
  const header = readSignatureHeader(headers, 'stripe-signature', 'missing_signature', 'malformed_signature');
  if (typeof header !== 'string') return header;
  const timestamps: string[] = [];
  const v1: string[] = [];
  for (const item of header.split(',')) {
    const at = item.indexOf('=');
    if (at < 0) continue;
    const name = item.slice(0, at).trim();
    const value = item.slice(at + 1).trim();
    if (name === 't') timestamps.push(value);
    else if (name === 'v1') v1.push(value);
  }
  if (timestamps.length === 0) return refused('missing_timestamp', 'stripe-signature has no t=');
  if (timestamps.length > 1) return refused('malformed_signature', 'stripe-signature has more than one t=');
  const signedAt = parseUnixSeconds(timestamps[0]!, 'stripe-signature t');
  if (typeof signedAt !== 'number') return signedAt;
  const given = v1.map(hexDigest).filter((digest): digest is Buffer => digest !== undefined);
  if (given.length === 0) return refused('malformed_signature', 'stripe-signature has no v1=<64 hex digits>');
  if (!anyDigestMatches(hmacSha256(key, `${timestamps[0]}.`, body), given)) return refused('signature_mismatch', 'no v1 in stripe-signature matches the body');
  return checkTolerance(signedAt, now, toleranceSeconds, 'stripe-signature t') ?? { ok: true, by: ['stripe'], signedAt };
}

/** Slack: `X-Slack-Signature: v0=<hex>` over `v0:${X-Slack-Request-Timestamp}:${body}`. */
function verifySlack(key: Uint8Array, toleranceSeconds: number, { body, headers, now }: WebhookDelivery): VerificationResult {
  const header = readSignatureHeader(headers, 'x-slack-signature', 'missing_signature', 'malformed_signature');
  if (typeof header !== 'string') return header;
  const timestamp = readSignatureHeader(headers, 'x-slack-request-timestamp', 'missing_timestamp', 'malformed_timestamp');
  if (typeof timestamp !== 'string') return timestamp;
  const signedAt = parseUnixSeconds(timestamp, 'x-slack-request-timestamp');
  if (typeof signedAt !== 'number') return signedAt;
  const given = header.startsWith('v0=') ? hexDigest(header.slice('v0='.length)) : undefined;
  if (!given) return refused('malformed_signature', 'x-slack-signature is not v0=<64 hex digits>');
  if (!anyDigestMatches(hmacSha256(key, `v0:${timestamp}:`, body), [given])) return refused('signature_mismatch', 'x-slack-signature does not match the body');
  return checkTolerance(signedAt, now, toleranceSeconds, 'x-slack-request-timestamp') ?? { ok: true, by: ['slack'], signedAt };
}

/**
 * A generic sender: the job names the header; its value is the body's HMAC-SHA256 in hex or
 * base64, optionally written `sha256=<digest>` (the GitHub habit many senders copy). No
 * timestamp is signed, so, like GitHub's, such a delivery can be replayed: say so to users.
 */
function verifyHmacSha256(key: Uint8Array, name: string, encoding: HmacEncoding, { body, headers }: WebhookDelivery): VerificationResult {
  if (typeof name !== 'string' || name === '') return refused('invalid_configuration', 'hmac_sha256 has no header');
  const header = readSignatureHeader(headers, name, 'missing_signature', 'malformed_signature');
  if (typeof header !== 'string') return header;
  const digest = header.toLowerCase().startsWith('sha256=') ? header.slice('sha256='.length) : header;
  const given = encoding === 'base64' ? base64Digest(digest) : hexDigest(digest);
  if (!given) return refused('malformed_signature', `${name} is not a ${encoding === 'base64' ? 'base64' : 'hex'} HMAC-SHA256`);
  if (!anyDigestMatches(hmacSha256(key, body), [given])) return refused('signature_mismatch', `${name} does not match the body`);
  return { ok: true, by: ['hmac_sha256'] };
}
