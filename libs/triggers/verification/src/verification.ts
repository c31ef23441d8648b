/**
 * Types and limits of webhook-trigger verification: how a job says which deliveries are its
 * sender's (`webhook_secret`, `webhook_verification`), and what a verdict looks like.
 *
 * The normalized `WebhookVerification` keeps the API's snake_case field names because it is what
 * the job stores and shows (like `ResponseMatcher`); only its `secret` is write-only.
 */

export const VERIFICATION_SCHEMES = ['standard_webhooks', 'github', 'stripe', 'slack', 'hmac_sha256'] as const;
export type VerificationScheme = (typeof VERIFICATION_SCHEMES)[number];

/** The schemes that sign a timestamp, and so refuse a delivery signed too far from `now`. */
export const TIMESTAMPED_SCHEMES = ['standard_webhooks', 'stripe', 'slack'] as const satisfies readonly VerificationScheme[];
export type TimestampedScheme = (typeof TIMESTAMPED_SCHEMES)[number];

export const HMAC_ENCODINGS = ['hex', 'base64'] as const;
export type HmacEncoding = (typeof HMAC_ENCODINGS)[number];

/** Stripe's, Slack's and Standard Webhooks' own default window: five minutes either side of now. */
export const DEFAULT_TOLERANCE_SECONDS = 300;
export const MAX_TOLERANCE_SECONDS = 86_400;
export const MAX_SECRET_LENGTH = 1024;
export const MAX_HEADER_NAME_LENGTH = 256;
/**
 * Signature and timestamp header values longer than this are refused unparsed. Node accepts at
 * most 16 KiB of headers in all; the longest legitimate value (a Stripe header during a secret
 * roll, a few v1 entries) is a few hundred characters.
 */
export const MAX_SIGNATURE_HEADER_LENGTH = 8192;

export type WebhookVerification =
  | { readonly scheme: TimestampedScheme; readonly secret: string; readonly tolerance_seconds: number }
  | { readonly scheme: 'github'; readonly secret: string }
  | { readonly scheme: 'hmac_sha256'; readonly secret: string; readonly header: string; readonly encoding: HmacEncoding };

/**
 * Request headers as Node gives them: lower-cased names; a repeated header either joined with
 * ", " or as a list (both are read the same way, see `readHeader`).
 */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface WebhookDelivery {
  /** The raw body bytes, exactly as received: every scheme signs bytes, not parsed text. */
  readonly body: Uint8Array;
  readonly headers: WebhookHeaders;
  /** The receiving instant, stamped by the shell; signed timestamps are judged against it. */
  readonly now: Date;
}

/** What authenticated a delivery. */
export type VerificationMethod = 'shared_secret' | VerificationScheme;

export interface Verified {
  readonly ok: true;
  /** Every check that passed, in order; empty for a trigger that asks for none. */
  readonly by: readonly VerificationMethod[];
  /** The signed timestamp (unix seconds), for the schemes that sign one. */
  readonly signedAt?: number;
  /** Standard Webhooks' `webhook-id`, signed with the body: the sender's idempotency key. */
  readonly webhookId?: string;
}

/** Stable codes: the shell logs and counts them; a sender is only ever told "401". */
export const REFUSAL_REASONS = [
  'missing_secret',
  'secret_mismatch',
  'missing_signature',
  'malformed_signature',
  'signature_mismatch',
  'missing_timestamp',
  'malformed_timestamp',
  'timestamp_out_of_tolerance',
  'missing_webhook_id',
  'malformed_webhook_id',
  /** The job's configuration cannot verify anything (it was not normalized); never the sender's fault. */
  'invalid_configuration',
  /** The caller passed something that is not a body (Uint8Array) or a valid `now`. */
  'invalid_input',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export interface Refused {
  readonly ok: false;
  readonly reason: RefusalReason;
  /** For logs: names the header and what was wrong. Never contains a secret or an expected signature. */
  readonly detail: string;
}

export type VerificationResult = Verified | Refused;

export const refused = (reason: RefusalReason, detail: string): Refused => ({ ok: false, reason, detail });

/**
 * Every header that carries a credential: the shell strips them (and the configured
 * `hmac_sha256` header, see `signatureHeaders`) from what it stores, since a stored signature
 * with its body could be replayed within the tolerance by anyone who reads the delivery.
 * Timestamps and ids (`webhook-id`, `x-slack-request-timestamp`) are kept: they are not secret.
 */
export const SIGNATURE_HEADERS = [
  'x-webhook-secret',
  'authorization',
  'webhook-signature',
  'x-hub-signature-256',
  'x-hub-signature',
  'stripe-signature',
  'x-slack-signature',
] as const;

/** `SIGNATURE_HEADERS` plus the header a `hmac_sha256` job reads its signature from. */
export function signatureHeaders(verification?: WebhookVerification | null): readonly string[] {
  if (verification?.scheme !== 'hmac_sha256' || (SIGNATURE_HEADERS as readonly string[]).includes(verification.header)) return SIGNATURE_HEADERS;
  return [...SIGNATURE_HEADERS, verification.header];
}
