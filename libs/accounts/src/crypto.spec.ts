import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { MAX_JWT_LENGTH, decodeBase64url, hashPassword, hashToken, inspectJwt, newApiToken, signJwt, verifyJwt, verifyPassword } from './crypto';

const SECRET = 's'.repeat(32);

describe('passwords', () => {
  it('verifies the right password and rejects a wrong one, never storing the plain text', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(stored).not.toContain('correct horse battery');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$/);
    await expect(verifyPassword('correct horse battery', stored)).resolves.toBe(true);
    await expect(verifyPassword('correct horse batterz', stored)).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });
});

describe('jwt', () => {
  it('round-trips claims until expiry', () => {
    const token = signJwt({ sub: 'usr_1', ws: 'ws_1', role: 'owner' }, SECRET, 1000, 60);
    expect(verifyJwt(token, SECRET, 1059)).toMatchObject({ sub: 'usr_1', ws: 'ws_1', role: 'owner', exp: 1060 });
    expect(verifyJwt(token, SECRET, 1060)).toBeNull();
  });

  it('rejects a tampered payload, another key and alg none', () => {
    const token = signJwt({ sub: 'usr_1', ws: 'ws_1', role: 'member' }, SECRET, 1000, 60);
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'usr_1', ws: 'ws_1', role: 'owner', iat: 1000, exp: 9999 })).toString('base64url');
    expect(verifyJwt(`${h}.${forged}.${s}`, SECRET, 1001)).toBeNull();
    expect(verifyJwt(token, 't'.repeat(32), 1001)).toBeNull();
    const none = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const sig = createHmac('sha256', SECRET).update(`${none}.${forged}`).digest('base64url');
    expect(verifyJwt(`${none}.${forged}.${sig}`, SECRET, 1001)).toBeNull();
  });
});

describe('decodeBase64url: one spelling per byte string', () => {
  it.each([
    ['', ''],
    ['AA', '00'],
    ['AAE', '0001'],
    ['_-8', 'ffef'],
    ['AAAA', '000000'],
  ])('decodes %j', (text, hex) => {
    expect(decodeBase64url(text)?.toString('hex')).toBe(hex);
  });

  it.each([
    ['padding', 'AA=='],
    ['one pad character', 'AAE='],
    ['standard-alphabet plus', 'a+8'],
    ['standard-alphabet slash', 'a/8'],
    ['a space', 'AA AA'],
    ['a newline', 'AAAA\n'],
    ['a tab', '\tAAAA'],
    ['a dot', 'AA.A'],
    ['a percent escape', 'AA%3D'],
    ['a non-ASCII letter', 'AAé'],
    ['a NUL', 'AA\u0000A'],
    ['length 4n+1', 'AAAAA'],
    ['non-zero trailing bits (2 chars)', 'AB'],
    ['non-zero trailing bits (3 chars)', 'AAF'],
  ])('refuses %s', (_name, text) => {
    expect(decodeBase64url(text)).toBeNull();
  });
});

describe('inspectJwt: strict decoding, every refusal a verdict (docs/authentication.md; issue 9 class 2)', () => {
  const NOW = 1_000_000;
  const claims = { sub: 'usr_01HZXY', ws: 'ws_01HZX', role: 'member', iat: NOW - 10, exp: NOW + 3600 };
  const enc = (text: string) => Buffer.from(text).toString('base64url');
  const HEADER = enc('{"alg":"HS256","typ":"JWT"}');
  const PAYLOAD = enc(JSON.stringify(claims));
  /** Signed with the right key over exactly these segments, so only the decoding rules can refuse it. */
  const signed = (header: string, payload: string) => `${header}.${payload}.${createHmac('sha256', SECRET).update(`${header}.${payload}`).digest('base64url')}`;
  const withPayloadJson = (json: string) => signed(HEADER, enc(json));
  const withHeaderJson = (json: string) => signed(enc(json), PAYLOAD);
  /** The payload segment with its last character's unused low bits set: the same bytes to a lenient decoder. */
  const nonCanonical = (segment: string) => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(segment.at(-1)!);
    return segment.slice(0, -1) + alphabet[last | (segment.length % 4 === 2 ? 0b1111 : 0b11)];
  };
  // The payload's length decides whether it has trailing bits at all; the claims above give it some.
  const valid = signed(HEADER, PAYLOAD);

  it('accepts the token as issued, and the fixture is one (the table below starts from it)', () => {
    expect(PAYLOAD.length % 4).not.toBe(0);
    expect(signJwt({ sub: claims.sub, ws: claims.ws, role: claims.role }, SECRET, NOW - 10, 3610)).toBe(valid);
    expect(inspectJwt(valid, SECRET, NOW)).toEqual({ ok: true, claims });
  });

  const [h, p, s] = valid.split('.');
  it.each([
    // shape
    ['an empty string', '', 'segments'],
    ['two segments', `${h}.${p}`, 'segments'],
    ['four segments', `${valid}.${s}`, 'segments'],
    ['an empty signature', `${h}.${p}.`, 'segments'],
    ['an empty header', `.${p}.${s}`, 'segments'],
    ['dots only', '..', 'segments'],
    ['more than the size limit, validly signed', withPayloadJson(JSON.stringify({ ...claims, pad: 'x'.repeat(MAX_JWT_LENGTH) })), 'too_long'],
    // encoding (each signed over its own spelling, so a lenient decoder would let it through)
    ['= padding on the payload', signed(HEADER, `${PAYLOAD}${'='.repeat(4 - (PAYLOAD.length % 4))}`), 'encoding'],
    ['= padding on the signature', `${valid}=`, 'encoding'],
    ['+ of the standard alphabet', signed(HEADER, `${PAYLOAD.slice(0, 4)}+${PAYLOAD.slice(5)}`), 'encoding'],
    ['/ of the standard alphabet', signed(HEADER, `${PAYLOAD.slice(0, 4)}/${PAYLOAD.slice(5)}`), 'encoding'],
    ['a space inside the payload', signed(HEADER, `${PAYLOAD.slice(0, 8)} ${PAYLOAD.slice(8)}`), 'encoding'],
    ['a newline after the header', signed(`${HEADER}\n`, PAYLOAD), 'encoding'],
    ['a trailing space', `${valid} `, 'encoding'],
    ['a character outside the alphabet', signed(HEADER, `${PAYLOAD}!`), 'encoding'],
    ['a NUL', signed(HEADER, `${PAYLOAD}\u0000`), 'encoding'],
    ['a non-ASCII character', signed(HEADER, `${PAYLOAD.slice(0, -1)}é`), 'encoding'],
    ['non-canonical trailing bits in the payload', signed(HEADER, nonCanonical(PAYLOAD)), 'encoding'],
    ['non-canonical trailing bits in the signature', `${h}.${p}.${nonCanonical(s)}`, 'encoding'],
    ['a dangling character (length 4n+1)', signed(HEADER, `${PAYLOAD}${PAYLOAD.length % 4 === 0 ? 'A' : 'AAAA'.slice(0, 5 - (PAYLOAD.length % 4))}`), 'encoding'],
    // signature
    ['another key', signJwt(claims, 't'.repeat(32), NOW - 10, 3610), 'signature'],
    ['a truncated signature', `${h}.${p}.${s.slice(0, 40)}`, 'signature'],
    ['a changed payload under the old signature', `${h}.${enc(JSON.stringify({ ...claims, role: 'owner' }))}.${s}`, 'signature'],
    // header (validly signed: only the header rule refuses these)
    ['alg none', withHeaderJson('{"alg":"none","typ":"JWT"}'), 'header'],
    ['alg HS512', withHeaderJson('{"alg":"HS512","typ":"JWT"}'), 'header'],
    ['alg in lower case', withHeaderJson('{"alg":"hs256","typ":"JWT"}'), 'header'],
    ['alg RS256', withHeaderJson('{"alg":"RS256","typ":"JWT"}'), 'header'],
    ['no typ', withHeaderJson('{"alg":"HS256"}'), 'header'],
    ['an extra kid', withHeaderJson('{"alg":"HS256","typ":"JWT","kid":"../../etc/passwd"}'), 'header'],
    ['crit', withHeaderJson('{"alg":"HS256","typ":"JWT","crit":["exp"]}'), 'header'],
    ['reordered keys', withHeaderJson('{"typ":"JWT","alg":"HS256"}'), 'header'],
    ['a duplicate alg', withHeaderJson('{"alg":"none","typ":"JWT","alg":"HS256"}'), 'header'],
    ['spacing', withHeaderJson('{"alg": "HS256", "typ": "JWT"}'), 'header'],
    ['a header that is not JSON', withHeaderJson('alg=HS256'), 'header'],
    ['a header that is an array', withHeaderJson('["HS256"]'), 'header'],
    ['a header that is a string', withHeaderJson('"HS256"'), 'header'],
    ['a header that is null', withHeaderJson('null'), 'header'],
    // payload (validly signed)
    ['a payload that is not JSON', withPayloadJson('sub=usr_1'), 'payload'],
    ['a payload cut short', withPayloadJson(JSON.stringify(claims).slice(0, -1)), 'payload'],
    ['a payload that is an array', withPayloadJson('[1,2]'), 'payload'],
    ['a payload that is a number', withPayloadJson('12'), 'payload'],
    ['a payload that is null', withPayloadJson('null'), 'payload'],
    ['a payload that is a string', withPayloadJson('"owner"'), 'payload'],
    ['a payload with a duplicate role (JSON.parse keeps the last)', withPayloadJson(JSON.stringify(claims).replace('"role":"member"', '"role":"member","role":"owner"')), 'payload'],
    ['a payload with spacing', withPayloadJson(JSON.stringify(claims, null, 1)), 'payload'],
    ['a payload with an escaped letter', withPayloadJson(JSON.stringify(claims).replace('member', '\\u006dember')), 'payload'],
    ['a payload that is not UTF-8', signed(HEADER, Buffer.concat([Buffer.from(JSON.stringify(claims).slice(0, -1)), Buffer.from([0xff, 0x7d])]).toString('base64url')), 'payload'],
    ['an extra claim', withPayloadJson(JSON.stringify({ ...claims, admin: true })), 'payload'],
    ['a __proto__ claim', withPayloadJson(JSON.stringify(claims).replace('{', '{"__proto__":{"role":"owner"},')), 'payload'],
    ['a missing claim', withPayloadJson(JSON.stringify({ ...claims, ws: undefined })), 'payload'],
    ['an unknown role', withPayloadJson(JSON.stringify({ ...claims, role: 'superuser' })), 'payload'],
    ['a numeric sub', withPayloadJson(JSON.stringify({ ...claims, sub: 42 })), 'payload'],
    ['an empty ws', withPayloadJson(JSON.stringify({ ...claims, ws: '' })), 'payload'],
    ['a NUL in ws', withPayloadJson(JSON.stringify({ ...claims, ws: 'ws_1\u0000' })), 'payload'],
    ['an exp that is a string', withPayloadJson(JSON.stringify({ ...claims, exp: String(NOW + 60) })), 'payload'],
    ['a fractional exp', withPayloadJson(JSON.stringify({ ...claims, exp: NOW + 0.5 })), 'payload'],
    ['an exp beyond safe integers', withPayloadJson(JSON.stringify(claims).replace(`"exp":${NOW + 3600}`, '"exp":1e400')), 'payload'],
    ['an exp before iat', withPayloadJson(JSON.stringify({ ...claims, iat: NOW + 7200 })), 'payload'],
    // time
    ['an expired token', withPayloadJson(JSON.stringify({ ...claims, exp: NOW })), 'expired'],
  ])('refuses %s', (_name, token, reason) => {
    expect(inspectJwt(token, SECRET, NOW)).toEqual({ ok: false, reason });
    expect(verifyJwt(token, SECRET, NOW)).toBeNull();
  });

  it('never throws, whatever the string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.stringMatching(/^[A-Za-z0-9_=+/. -]{0,300}$/)), (token) => {
        expect(inspectJwt(token, SECRET, NOW).ok).toBe(false);
      }),
    );
  });

  it('refuses every one-character change of a valid token: a credential has exactly one spelling', () => {
    fc.assert(
      fc.property(fc.nat({ max: valid.length }), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }), fc.constantFrom('replace', 'insert', 'delete'), (at, char, edit) => {
        const changed =
          edit === 'insert' ? valid.slice(0, at) + char + valid.slice(at) : valid.slice(0, at) + (edit === 'replace' ? char : '') + valid.slice(at + 1);
        fc.pre(changed !== valid);
        expect(inspectJwt(changed, SECRET, NOW).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('api tokens', () => {
  it('are prefixed, random and hashed deterministically', () => {
    const token = newApiToken();
    expect(token).toMatch(/^cron_pat_[A-Za-z0-9_-]{43}$/);
    expect(hashToken(token)).toBe(hashToken(token));
    expect(hashToken(token)).not.toContain(token.slice(9));
  });
});
