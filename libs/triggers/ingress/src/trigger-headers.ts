import { storableText } from '@trigrun/execution-contracts';

/**
 * Request headers as a trigger execution keeps them: names lower case, one string each, nothing
 * that authenticates the caller, bounded. Only {@link triggerHeaders} makes one (the brand), so a
 * request's raw headers cannot end up in a `trigger_input` by mistake.
 */
export type TriggerHeaders = Readonly<Record<string, string>> & { readonly [triggerHeadersBrand]: true };
declare const triggerHeadersBrand: unique symbol;

/**
 * Never kept, whatever the caller asks: they carry the caller's credentials, and `trigger_input`
 * is shown to every member of the workspace and rendered into steps' requests.
 */
export const STRIPPED_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'x-webhook-secret'];

/** At most this many headers are kept: the first ones, in the order they arrived. */
export const MAX_TRIGGER_HEADERS = 100;
/** A longer value is cut to this many characters, the marker included (Node reads header bytes as Latin-1: one character per byte). */
export const MAX_HEADER_VALUE_LENGTH = 8 * 1024;
/** Ends a value that was cut. */
export const TRUNCATION_MARKER = '...[truncated]';
/** Names longer than this are dropped: no real header is, and they would only fill the record. */
export const MAX_HEADER_NAME_LENGTH = 256;

/**
 * The headers a trigger execution records (`trigger_input.headers`):
 *
 * - names lower case; names that differ only in case are one header;
 * - several values (an array, or the same name twice) joined with `", "`, as HTTP folds them;
 * - without STRIPPED_HEADERS and every name in `drop` (the caller passes its signature headers,
 *   e.g. `webhook-signature`, `x-hub-signature-256`, so no one can lift them to replay a
 *   delivery), matched case-insensitively;
 * - at most MAX_TRIGGER_HEADERS headers (the first ones; the rest are dropped), each value at
 *   most MAX_HEADER_VALUE_LENGTH characters (a longer one keeps its start and ends with
 *   TRUNCATION_MARKER), names over MAX_HEADER_NAME_LENGTH dropped, `undefined` values skipped;
 * - values storable (NUL and lone surrogates as U+FFFD).
 *
 * A header named `__proto__` is an own key like any other. Never throws.
 */
export function triggerHeaders(headers: Readonly<Record<string, string | readonly string[] | undefined>>, drop: readonly string[] = []): TriggerHeaders {
  const dropped = new Set([...STRIPPED_HEADERS, ...drop.map((name) => name.toLowerCase())]);
  const kept = new Map<string, string>();
  for (const [rawName, value] of Object.entries(headers)) {
    if (value === undefined || rawName.length > MAX_HEADER_NAME_LENGTH) continue;
    const name = storableText(rawName.toLowerCase());
    if (dropped.has(name)) continue;
    const seen = kept.get(name);
    if (seen === undefined && kept.size >= MAX_TRIGGER_HEADERS) continue;
    let joined = seen;
    for (const item of typeof value === 'string' ? [value] : value) {
      // Once past the bound nothing more can show: a million repeated values cost no more than one.
      if (joined !== undefined && joined.length > MAX_HEADER_VALUE_LENGTH) break;
      if (typeof item === 'string') joined = joined === undefined ? item : `${joined}, ${item}`;
    }
    if (joined !== undefined) kept.set(name, joined);
  }
  const record = new Map<string, string>();
  for (const [name, joined] of kept) record.set(name, storableText(bounded(joined)));
  return Object.fromEntries(record) as TriggerHeaders;
}

function bounded(value: string): string {
  if (value.length <= MAX_HEADER_VALUE_LENGTH) return value;
  let end = MAX_HEADER_VALUE_LENGTH - TRUNCATION_MARKER.length;
  // Never cut between the halves of a surrogate pair (which would leave a lone, unstorable one).
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return value.slice(0, end) + TRUNCATION_MARKER;
}
