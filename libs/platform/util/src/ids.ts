import { randomBytes, randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID (48-bit millisecond time + 80 random bits, Crockford base32): ids sort by creation time,
 * which is what keyset pagination and "newest first" lists rely on.
 */
export function ulid(now: number = Date.now(), random: Uint8Array = pooledRandom()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  // 80 bits as two 40-bit halves: each is exact in a double, so no BigInt is needed.
  return time + base32Of40(random, 0) + base32Of40(random, 5);
}

function base32Of40(bytes: Uint8Array, from: number): string {
  let n = 0;
  for (let i = from; i < from + 5; i++) n = n * 256 + bytes[i];
  let out = '';
  for (let i = 0; i < 8; i++) {
    out = CROCKFORD[n % 32] + out;
    n = Math.floor(n / 32);
  }
  return out;
}

/**
 * 10 random bytes for one id, cut from a buffer filled by the CSPRNG 4 KiB at a time: a call into
 * the CSPRNG per id was a visible cost on the engine's hot path (every event has an id). Each
 * slice is handed out once.
 */
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;
function pooledRandom(): Uint8Array {
  if (poolOffset + 10 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const slice = POOL.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return slice;
}

export type IdPrefix = 'job' | 'exec' | 'evt' | 'usr' | 'ws' | 'tok' | 'sec' | 'mem';

export function newId(prefix: IdPrefix, now?: number): string {
  return `${prefix}_${ulid(now)}`;
}

/** A URL-safe secret with `bytes` bytes of randomness (128 bits by default). */
export function randomToken(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}
