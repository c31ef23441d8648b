import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ParkToken } from '@trigrun/execution-domain';

/**
 * Tokens of resume and approval URLs (docs/workflows.md): `<execution_id>.<secret>`, the secret 256
 * random bits in base64url. The execution id lets the public edge find the execution without an
 * index (nothing to lag behind); the secret is what proves the caller holds the link.
 *
 * Only the SHA-256 of the whole token is recorded for verification, plus the token sealed under
 * the master key (AES-256-GCM, bound to the execution and step) so that an authorized API reader
 * can be shown the URLs. A token is never written in clear to an event, row or log.
 */
const TOKEN = /^(exec_[0-9A-HJKMNP-TV-Z]{26})\.([A-Za-z0-9_-]{43})$/;
const SECRET_BYTES = 32;

/** Seals and opens token text; the secrets lib's cipher, passed in so this lib stays free of its Nest/ORM parts. */
export interface TokenSealer {
  seal(plaintext: string, aad: string): { ciphertext: string; key_version: number };
  open(sealed: { ciphertext: string; key_version: number }, aad: string): string;
}

export const parkTokenAad = (executionId: string, stepId: string): string => `park-token:${executionId}:${stepId}`;

export const hashParkToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** A fresh token for a parking step: the token (to hand out once, in URLs) and what the decider records. */
export function mintParkToken(executionId: string, stepId: string, sealer: TokenSealer): { token: string; park: ParkToken } {
  const token = `${executionId}.${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return { token, park: { hash: hashParkToken(token), sealed: sealer.seal(token, parkTokenAad(executionId, stepId)) } };
}

/** The execution a well-formed token points at; null for anything else (which then answers 404). */
export function executionIdOfToken(token: string): string | null {
  if (token.length > 120) return null;
  const match = TOKEN.exec(token);
  return match ? match[1] : null;
}

/** Constant-time comparison of two hex SHA-256 digests. */
export function sameTokenHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === 32 && y.length === 32 && timingSafeEqual(x, y);
}

/**
 * The public links of a token, under the install's public base URL: the one place they are
 * spelled, for the API's `waiting_payload` and the review page's buttons alike.
 */
export function parkLinks(publicUrl: string, token: string): { resumeUrl: string; reviewUrl: string; approveUrl: string; rejectUrl: string } {
  const base = publicUrl.replace(/\/+$/, '');
  const escaped = encodeURIComponent(token);
  const reviewUrl = `${base}/v1/approvals/${escaped}`;
  return { resumeUrl: `${base}/v1/resume/${escaped}`, reviewUrl, approveUrl: `${reviewUrl}/approve`, rejectUrl: `${reviewUrl}/reject` };
}
