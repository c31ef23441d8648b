import { MAX_SIGNATURE_HEADER_LENGTH, type Refused, refused, type WebhookHeaders } from './verification';

/**
 * One header's value as text, or `undefined` when it is absent or blank. A list (a repeated
 * header) is joined with ", " — what Node does for every header named here — so a duplicate
 * arrives at one parser in one form and is refused there as malformed (or simply mismatches);
 * nothing is picked from it. Only own properties are read (a configured name such as
 * `__proto__` reads nothing), and anything that is not text counts as absent: never a throw.
 */
export function readHeader(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null || !Object.prototype.hasOwnProperty.call(headers, name)) return undefined;
  const value: unknown = headers[name];
  let text: string | undefined;
  if (typeof value === 'string') text = value;
  else if (Array.isArray(value)) {
    const parts = value.filter((part): part is string => typeof part === 'string');
    text = parts.length === 0 ? undefined : parts.join(', ');
  }
  const trimmed = text?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** A signature or timestamp header: absent, too long to parse, or its text. */
export function readSignatureHeader(
  headers: WebhookHeaders,
  name: string,
  missing: 'missing_signature' | 'missing_timestamp' | 'missing_webhook_id',
  malformed: 'malformed_signature' | 'malformed_timestamp' | 'malformed_webhook_id',
): string | Refused {
  const value = readHeader(headers, name);
  if (value === undefined) return refused(missing, `${name} is missing`);
  if (value.length > MAX_SIGNATURE_HEADER_LENGTH) return refused(malformed, `${name} is longer than ${MAX_SIGNATURE_HEADER_LENGTH} characters`);
  return value;
}

/**
 * Unix seconds written as plain decimal digits. `parseInt` would read "1531420618abc" or
 * "1e9" as a number; a signed timestamp is exactly the text that was signed, so anything else is
 * malformed. Twelve digits reach the year 33658.
 */
const UNIX_SECONDS = /^\d{1,12}$/;

export function parseUnixSeconds(text: string, name: string): number | Refused {
  return UNIX_SECONDS.test(text) ? Number(text) : refused('malformed_timestamp', `${name} is not unix seconds`);
}

/**
 * The window is symmetric: a timestamp too far ahead is as suspect as a stale one (Slack's and
 * Standard Webhooks' rule; Stripe's library checks only age, a sender's clock running fast is
 * no reason to widen ours). The boundary itself is inside.
 */
export function checkTolerance(signedAt: number, now: Date, toleranceSeconds: number, name: string): Refused | undefined {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const skew = nowSeconds - signedAt;
  if (Math.abs(skew) <= toleranceSeconds) return undefined;
  return refused('timestamp_out_of_tolerance', `${name} is ${Math.abs(skew)} s ${skew > 0 ? 'old' : 'ahead'}; the tolerance is ${toleranceSeconds} s`);
}
