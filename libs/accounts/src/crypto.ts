import { createHash, createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

/** scrypt with N=2^15: about 50 ms per hash on this class of machine — slow for an attacker, fine for a login. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(actual, expected);
}

/** API tokens carry 256 random bits, so a fast hash is enough to make the stored copy useless. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('base64url');

export const API_TOKEN_PREFIX = 'cron_pat_';
export const newApiToken = (): string => `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;

export interface JwtClaims {
  readonly sub: string;
  readonly ws: string;
  readonly role: string;
  readonly iat: number;
  readonly exp: number;
}

/** Why a bearer JWT was refused; callers answer every one of them with the same 401. */
export type JwtRejection = 'too_long' | 'segments' | 'encoding' | 'signature' | 'header' | 'payload' | 'expired';
export type JwtVerdict = { readonly ok: true; readonly claims: JwtClaims } | { readonly ok: false; readonly reason: JwtRejection };

/** Far above the ~250 characters of a token we issue; anything longer is refused before any work is done on it. */
export const MAX_JWT_LENGTH = 2048;

/** The one header we issue, byte for byte: any other header (another alg, `kid`, `jku`, `crit`, padding, spacing) is refused. */
const JWT_HEADER = { alg: 'HS256', typ: 'JWT' } as const;
const CLAIM_KEYS = ['sub', 'ws', 'role', 'iat', 'exp'] as const;
const ID_LIKE = /^[A-Za-z0-9_-]{1,128}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const ENCODED_HEADER = b64(JWT_HEADER);

/**
 * Strict RFC 4648 §5 base64url without padding, or null. Node's decoder is lenient on purpose: it
 * skips characters outside the alphabet, whitespace and `=`, and ignores the unused trailing bits,
 * so many spellings decode to the same bytes. A credential must have exactly one spelling, hence
 * the alphabet check and the round trip (which also refuses a length of 4n+1 and non-zero
 * trailing bits: re-encoding such input never gives it back).
 */
export function decodeBase64url(text: string): Buffer | null {
  if (!BASE64URL.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

/**
 * A JSON object from a JWT segment, accepted only in the exact form `JSON.stringify` gives it:
 * that is how every token we issue is written, and it refuses duplicate keys (JSON.parse keeps the
 * last one silently, so two readers could disagree on a claim), escapes, spacing and number
 * spellings in one comparison instead of a hand-written JSON parser.
 */
function canonicalJsonObject(bytes: Buffer): Record<string, unknown> | null {
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) return null; // not UTF-8
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  return JSON.stringify(value) === text ? (value as Record<string, unknown>) : null;
}

/** HS256 JWTs: the only algorithm accepted, so a forged `alg: none` header is simply invalid. */
export function signJwt(claims: Omit<JwtClaims, 'iat' | 'exp'>, secret: string, nowSeconds: number, ttlSeconds: number): string {
  const body = `${ENCODED_HEADER}.${b64({ sub: claims.sub, ws: claims.ws, role: claims.role, iat: nowSeconds, exp: nowSeconds + ttlSeconds })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/**
 * Checks a JWT we issued. Hand-written rather than a JWT library because we accept one shape only
 * (our header, our five claims, HS256) and each refusal must be a plain verdict, never an
 * exception: the order is size, shape, encoding, then the signature (constant time) before any
 * JSON is parsed, so unauthenticated bytes never reach the parser.
 */
export function inspectJwt(token: string, secret: string, nowSeconds: number): JwtVerdict {
  const no = (reason: JwtRejection): JwtVerdict => ({ ok: false, reason });
  if (token.length > MAX_JWT_LENGTH) return no('too_long');
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => part.length === 0)) return no('segments');
  const [header, payload] = parts;
  const decoded = parts.map(decodeBase64url);
  if (decoded.some((bytes) => bytes === null)) return no('encoding');
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = decoded[2]!;
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return no('signature');
  // Our header is a constant, so the strictest check is equality with it.
  if (header !== ENCODED_HEADER) return no('header');
  const claims = canonicalJsonObject(decoded[1]!);
  if (!claims) return no('payload');
  const keys = Object.keys(claims);
  if (keys.length !== CLAIM_KEYS.length || !CLAIM_KEYS.every((key) => keys.includes(key))) return no('payload');
  const { sub, ws, role, iat, exp } = claims;
  if (typeof sub !== 'string' || !ID_LIKE.test(sub) || typeof ws !== 'string' || !ID_LIKE.test(ws)) return no('payload');
  if (role !== 'owner' && role !== 'admin' && role !== 'member') return no('payload');
  if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp) || (exp as number) <= (iat as number)) return no('payload');
  if ((exp as number) <= nowSeconds) return no('expired');
  return { ok: true, claims: { sub, ws, role, iat: iat as number, exp: exp as number } };
}

export function verifyJwt(token: string, secret: string, nowSeconds: number): JwtClaims | null {
  const verdict = inspectJwt(token, secret, nowSeconds);
  return verdict.ok ? verdict.claims : null;
}
