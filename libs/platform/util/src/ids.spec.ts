import { randomBytes } from 'node:crypto';
import { decodeCursor, encodeCursor } from './cursor';
import { newId, randomToken, ulid } from './ids';

describe('ulid', () => {
  it('encodes the time first so ids sort by creation time', () => {
    const a = ulid(1_700_000_000_000, Buffer.alloc(10, 255));
    const b = ulid(1_700_000_000_001, Buffer.alloc(10, 0));
    expect(a < b).toBe(true);
    expect(a).toHaveLength(26);
    expect(a).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('is the known encoding of a fixed input', () => {
    expect(ulid(0, Buffer.alloc(10, 0))).toBe('0'.repeat(26));
    expect(ulid(1, Buffer.alloc(10, 0))).toBe('0000000001' + '0'.repeat(16));
  });

  it('encodes the 80 random bits exactly as one big base32 number would', () => {
    const reference = (bytes: Buffer) => {
      let bits = 0n;
      for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
      return bits.toString(32).toUpperCase().padStart(16, '0');
    };
    const crockford = (plain: string) => plain.replace(/[I-V]/g, (c) => '0123456789ABCDEFGHJKMNPQRSTVWXYZ'[parseInt(c, 32)]);
    expect(ulid(0, Buffer.alloc(10, 255)).slice(10)).toBe('Z'.repeat(16));
    for (let i = 0; i < 500; i++) {
      const bytes = randomBytes(10);
      expect(ulid(0, bytes).slice(10)).toBe(crockford(reference(bytes)));
    }
  });

  it('draws fresh randomness for every id, also across refills of its random pool', () => {
    const ids = Array.from({ length: 2_000 }, () => ulid(0));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('prefixes ids and makes tokens of the requested entropy', () => {
    expect(newId('job')).toMatch(/^job_[0-9A-Z]{26}$/);
    expect(Buffer.from(randomToken(), 'base64url')).toHaveLength(16);
    expect(randomToken(32)).not.toBe(randomToken(32));
  });
});

describe('cursors', () => {
  it('round-trip ids and reject anything else', () => {
    const id = newId('exec');
    expect(decodeCursor(encodeCursor(id))).toBe(id);
    expect(decodeCursor('not-a-cursor')).toBeNull();
    expect(decodeCursor(Buffer.from("exec_x' or 1=1").toString('base64url'))).toBeNull();
  });
});
