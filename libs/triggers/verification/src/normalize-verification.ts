import { isStandardWebhookSecret } from './standard-webhooks';
import {
  DEFAULT_TOLERANCE_SECONDS,
  HMAC_ENCODINGS,
  type HmacEncoding,
  MAX_HEADER_NAME_LENGTH,
  MAX_SECRET_LENGTH,
  MAX_TOLERANCE_SECONDS,
  TIMESTAMPED_SCHEMES,
  type TimestampedScheme,
  VERIFICATION_SCHEMES,
  type VerificationScheme,
  type WebhookVerification,
} from './verification';

/** Same shape as `FieldProblem` (@trigrun/util), which a domain lib may not import. */
export interface VerificationProblem {
  readonly field: string;
  readonly message: string;
}

export type NormalizedVerification = { readonly value: WebhookVerification } | { readonly problems: readonly VerificationProblem[] };

/** RFC 9110 token characters: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const KNOWN_FIELDS = ['scheme', 'secret', 'tolerance_seconds', 'header', 'encoding'];

/**
 * Create-time validation of a job's `webhook_verification`. Reports every problem at once, each
 * with its field path (as `normalizeMatcher` does); fields a scheme does not use are refused
 * rather than kept and ignored, so a job never shows a setting that does nothing. Fills the
 * defaults (`tolerance_seconds` 300, `encoding` hex) and lower-cases `header`, so what is stored
 * is what `verifySignature` reads. Absence (no verification) is the caller's to handle.
 */
export function normalizeVerification(input: unknown, field = 'webhook_verification'): NormalizedVerification {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { problems: [{ field, message: 'must be an object' }] };
  const given = input as Record<string, unknown>;
  // Own fields only: an inherited `secret` is not something the user sent.
  const own = (key: string): unknown => (Object.prototype.hasOwnProperty.call(given, key) ? given[key] : undefined);
  const problems: VerificationProblem[] = [];
  const problem = (key: string, message: string) => problems.push({ field: `${field}.${key}`, message });
  for (const key of Object.keys(given)) if (!KNOWN_FIELDS.includes(key)) problem(key, 'is not a known field');

  const scheme = own('scheme');
  const schemeOk = (VERIFICATION_SCHEMES as readonly unknown[]).includes(scheme);
  if (!schemeOk) problem('scheme', `must be one of ${VERIFICATION_SCHEMES.join(', ')}`);

  const secret = own('secret');
  if (typeof secret !== 'string' || secret === '') problem('secret', 'must be a non-empty string');
  else if (secret.length > MAX_SECRET_LENGTH) problem('secret', `must be at most ${MAX_SECRET_LENGTH} characters`);
  else if (scheme === 'standard_webhooks' && !isStandardWebhookSecret(secret)) problem('secret', 'must be whsec_ followed by base64 (a Standard Webhooks secret)');

  const timestamped = (TIMESTAMPED_SCHEMES as readonly unknown[]).includes(scheme);
  const tolerance = own('tolerance_seconds');
  if (tolerance !== undefined) {
    if (schemeOk && !timestamped) problem('tolerance_seconds', `is only used with schemes ${TIMESTAMPED_SCHEMES.join(', ')}`);
    else if (!Number.isInteger(tolerance) || (tolerance as number) < 1 || (tolerance as number) > MAX_TOLERANCE_SECONDS) {
      problem('tolerance_seconds', `must be an integer from 1 to ${MAX_TOLERANCE_SECONDS}`);
    }
  }

  const header = own('header');
  const encoding = own('encoding');
  if (scheme === 'hmac_sha256') {
    if (header === undefined) problem('header', 'is required for scheme hmac_sha256');
    else if (typeof header !== 'string' || header.length > MAX_HEADER_NAME_LENGTH || !HEADER_NAME.test(header)) {
      problem('header', `must be a header name (at most ${MAX_HEADER_NAME_LENGTH} token characters)`);
    }
    if (encoding !== undefined && !(HMAC_ENCODINGS as readonly unknown[]).includes(encoding)) problem('encoding', `must be one of ${HMAC_ENCODINGS.join(', ')}`);
  } else if (schemeOk) {
    if (header !== undefined) problem('header', 'is only used with scheme hmac_sha256');
    if (encoding !== undefined) problem('encoding', 'is only used with scheme hmac_sha256');
  }

  if (problems.length > 0) return { problems };
  return { value: build(scheme as VerificationScheme, secret as string, tolerance as number | undefined, header as string, encoding as HmacEncoding | undefined) };
}

function build(scheme: VerificationScheme, secret: string, tolerance: number | undefined, header: string, encoding: HmacEncoding | undefined): WebhookVerification {
  switch (scheme) {
    case 'github':
      return { scheme, secret };
    case 'hmac_sha256':
      return { scheme, secret, header: header.toLowerCase(), encoding: encoding ?? 'hex' };
    default:
      return { scheme: scheme satisfies TimestampedScheme, secret, tolerance_seconds: tolerance ?? DEFAULT_TOLERANCE_SECONDS };
  }
}
