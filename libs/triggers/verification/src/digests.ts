import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The only place that touches node:crypto, and only its deterministic functions (lint bans its
 * random ones in this lib). Every comparison of a credential goes through here so none is ever
 * `===` on secret-dependent data.
 */

const encoder = new TextEncoder();

/** HMAC-SHA256 over the parts in order; text parts are UTF-8 (they are ASCII: prefixes, digits, ids). */
export function hmacSha256(key: Uint8Array, ...parts: readonly (string | Uint8Array)[]): Buffer {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(typeof part === 'string' ? encoder.encode(part) : part);
  return hmac.digest();
}

export const utf8 = (text: string): Uint8Array => encoder.encode(text);

/**
 * Whether two secrets are equal, in time that depends on neither: both are hashed first, so
 * `timingSafeEqual` always compares 32 bytes and a wrong guess learns not even the length.
 */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given, 'utf8').digest(), createHash('sha256').update(expected, 'utf8').digest());
}

/**
 * Whether any candidate equals the expected digest. Every candidate is compared (no early exit),
 * each in constant time; a candidate of another length cannot match and is skipped, which only
 * tells the sender what it already knows, the length of what it sent.
 */
export function anyDigestMatches(expected: Uint8Array, candidates: readonly Uint8Array[]): boolean {
  let matched = false;
  for (const candidate of candidates) {
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
  }
  return matched;
}
