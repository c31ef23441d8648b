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
