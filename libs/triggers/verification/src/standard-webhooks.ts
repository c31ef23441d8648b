import { Webhook } from 'standardwebhooks';
import { anyDigestMatches, hmacSha256 } from './digests';
import { checkTolerance, parseUnixSeconds, readSignatureHeader } from './headers';
import { refused, type VerificationResult, type WebhookDelivery } from './verification';

/**
 * Standard Webhooks (https://www.standardwebhooks.com, also Svix's format): `webhook-id`,
 * `webhook-timestamp`, `webhook-signature: v1,<base64> [v1,<base64> …]` (space-separated, several
 * while a secret rolls), HMAC-SHA256 keyed with the base64 after `whsec_`, over
 * `${webhook-id}.${webhook-timestamp}.${body}`.
 *
 * Why the signature is computed here and not by the `standardwebhooks` package (1.1.1, read in
 * node_modules/standardwebhooks/dist/index.js):
 *  - `verify` judges the timestamp against `Date.now()` with a fixed 5-minute window; the job's
 *    `tolerance_seconds` and the shell's `now` must govern, and checking our window first does not
 *    help: a tolerance above 300 s, or a `now` that is not the wall clock, is still refused by it.
 *  - `sign` and `verify` turn a Buffer payload into text with `payload.toString()` (UTF-8), so
 *    every invalid byte becomes U+FFFD and two different bodies share one signature (0xFF and 0xFE
 *    sign identically; a spec test shows it). The spec signs the bytes. A plain Uint8Array throws.
 *  - `verify` JSON-parses the body by default, so a correctly signed non-JSON body throws.
 *  - it reads the timestamp with `parseInt`, so "1700000000abc" passes as a timestamp.
 * For every body that is valid UTF-8 this computes exactly what the package's `sign` does (the
 * specs check it against `sign` and against Svix's published example); the package still defines
 * the secret format: `isStandardWebhookSecret` accepts a secret only if its constructor does.
 */
export function verifyStandardWebhook(secret: string, toleranceSeconds: number, { body, headers, now }: WebhookDelivery): VerificationResult {
  const key = standardWebhookKey(secret);
  if (!key) return refused('invalid_configuration', 'the standard_webhooks secret is not whsec_<base64>');
  const id = readSignatureHeader(headers, 'webhook-id', 'missing_webhook_id', 'malformed_webhook_id');
  if (typeof id !== 'string') return id;
  if (!WEBHOOK_ID.test(id)) return refused('malformed_webhook_id', 'webhook-id is not 1-256 visible ASCII characters without "."');
  const header = readSignatureHeader(headers, 'webhook-signature', 'missing_signature', 'malformed_signature');
  if (typeof header !== 'string') return header;
  const timestamp = readSignatureHeader(headers, 'webhook-timestamp', 'missing_timestamp', 'malformed_timestamp');
  if (typeof timestamp !== 'string') return timestamp;
  const signedAt = parseUnixSeconds(timestamp, 'webhook-timestamp');
  if (typeof signedAt !== 'number') return signedAt;
  // Other versions (v1a is the asymmetric ed25519 variant) are skipped, as the package does.
  const given = header
    .split(' ')
    .filter((entry) => entry.startsWith('v1,') && SIGNATURE.test(entry.slice(3)))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));
  if (given.length === 0) return refused('malformed_signature', 'webhook-signature has no v1,<base64 HMAC-SHA256>');
  if (!anyDigestMatches(hmacSha256(key, `${id}.${timestamp}.`, body), given)) return refused('signature_mismatch', 'no v1 in webhook-signature matches the body');
  return checkTolerance(signedAt, now, toleranceSeconds, 'webhook-timestamp') ?? { ok: true, by: ['standard_webhooks'], signedAt, webhookId: id };
}

const PREFIX = 'whsec_';
/** Strict padded base64, so that Buffer's lenient decoder (which skips bad characters) and the package's strict one read the same key. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** A 32-byte HMAC in padded base64. */
const SIGNATURE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
/**
 * The id is signed as `${id}.${timestamp}.${body}`: an id containing "." would let one signed
 * string be split another way (id "a", timestamp T1, body "T2.x" is also id "a.T1", timestamp T2,
 * body "x": a body changed under the same signature), so such ids are refused. Senders use ids like `msg_2KWPBgLlAfxdpx2AI54pPJ85f4W`.
 */
const WEBHOOK_ID = /^[\x21-\x2d\x2f-\x7e]{1,256}$/;

/** Whether `secret` is `whsec_` + canonical base64 of at least one byte that the package also accepts. */
export function isStandardWebhookSecret(secret: string): boolean {
  if (!secret.startsWith(PREFIX) || secret.length === PREFIX.length || !BASE64.test(secret.slice(PREFIX.length))) return false;
  try {
    new Webhook(secret);
    return true;
  } catch {
    return false;
  }
}

function standardWebhookKey(secret: string): Buffer | undefined {
  return isStandardWebhookSecret(secret) ? Buffer.from(secret.slice(PREFIX.length), 'base64') : undefined;
}
