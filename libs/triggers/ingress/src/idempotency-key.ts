import { type IngressRefusal, invalid } from './refusal';

/** Where a delivery's idempotency key was found, most specific first. */
export const IDEMPOTENCY_KEY_HEADERS = ['idempotency-key', 'webhook-id', 'x-github-delivery'] as const;
export type IdempotencyKeySource = (typeof IDEMPOTENCY_KEY_HEADERS)[number];

export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

export interface IdempotencyKey {
  readonly key: string;
  readonly source: IdempotencyKeySource;
}

export type IdempotencyKeyResult = { readonly ok: true; readonly idempotencyKey: IdempotencyKey | null } | IngressRefusal;

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/**
 * The sender's key for "this is the same delivery again", from the first of these headers that is
 * present and not blank: `Idempotency-Key` (the IETF draft), `webhook-id` (Standard Webhooks:
 * Svix, Clerk, …), `X-GitHub-Delivery` (GitHub's delivery GUID, the same on a redelivery).
 * Names are matched case-insensitively; several values are joined with `", "`, as Node joins them;
 * surrounding whitespace is trimmed.
 *
 * `{idempotencyKey: null}` when none is present (a blank header counts as absent: the delivery
 * is still taken, only not deduplicated). A key longer than 256 characters or with anything but
 * printable ASCII (0x20–0x7E) is a 400 naming the header, and the later headers are not tried:
 * a sender that sets a key means it, and a key silently swapped for another would deduplicate
 * the wrong deliveries. Never throws.
 */
export function idempotencyKeyOf(headers: Readonly<Record<string, string | readonly string[] | undefined>>): IdempotencyKeyResult {
  const found = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || !(IDEMPOTENCY_KEY_HEADERS as readonly string[]).includes(lower)) continue;
    const text = typeof value === 'string' ? value : value.join(', ');
    const seen = found.get(lower);
    found.set(lower, seen === undefined ? text : `${seen}, ${text}`);
  }
  for (const source of IDEMPOTENCY_KEY_HEADERS) {
    const key = found.get(source)?.trim();
    if (key === undefined || key === '') continue;
    if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) return invalid(`headers.${source}`, `must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
    if (!PRINTABLE_ASCII.test(key)) return invalid(`headers.${source}`, 'must be printable ASCII');
    return { ok: true, idempotencyKey: { key, source } };
  }
  return { ok: true, idempotencyKey: null };
}
