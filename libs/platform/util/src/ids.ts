import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID (48-bit millisecond time + 80 random bits, Crockford base32): ids sort by creation time,
 * which is what keyset pagination and "newest first" lists rely on.
 */
export function ulid(now: number = Date.now(), random: Buffer = randomBytes(10)): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let bits = 0n;
  for (const byte of random) bits = (bits << 8n) | BigInt(byte);
  let rand = '';
  for (let i = 0; i < 16; i++) {
    rand = CROCKFORD[Number(bits & 31n)] + rand;
    bits >>= 5n;
  }
  return time + rand;
}

export type IdPrefix = 'job' | 'exec' | 'evt' | 'usr' | 'ws' | 'tok' | 'sec' | 'mem';

export function newId(prefix: IdPrefix, now?: number): string {
  return `${prefix}_${ulid(now)}`;
}

/** A URL-safe secret with `bytes` bytes of randomness (128 bits by default). */
export function randomToken(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}
