import { SecretCipher, SecretDecryptionError, type MasterKeys, decodeMasterKey, parseMasterKeys } from './secret-cipher';

// Fixed keys: the tests need no randomness of their own (the IV is the cipher's business).
const KEY_1 = Buffer.alloc(32, 1);
const KEY_2 = Buffer.alloc(32, 2);
const B64_1 = KEY_1.toString('base64');
const B64_2 = KEY_2.toString('base64');
const keys = (version: number, key: Buffer, previous: [number, Buffer][] = []): MasterKeys => ({ current: { version, key }, previous: new Map(previous) });
const AAD = 'secret:ws_A:STRIPE_KEY';

describe('SecretCipher', () => {
  const cipher = new SecretCipher(keys(1, KEY_1));

  it('round-trips text, unicode and the empty string', () => {
    for (const plaintext of ['sk_live_123', 'pässwörd 🔑 "quoted" \\ $&', '', 'x'.repeat(16_384)]) {
      const sealed = cipher.encrypt(plaintext, AAD);
      expect(sealed.keyVersion).toBe(1);
      expect(cipher.decrypt(sealed.ciphertext, sealed.keyVersion, AAD)).toBe(plaintext);
    }
  });

  it('lays out iv(12) | tag(16) | data and never contains the plaintext', () => {
    const sealed = cipher.encrypt('hunter2-hunter2', AAD);
    const raw = Buffer.from(sealed.ciphertext, 'base64');
    expect(raw.length).toBe(12 + 16 + 'hunter2-hunter2'.length);
    expect(sealed.ciphertext).not.toContain('hunter2');
    expect(raw.includes(Buffer.from('hunter2'))).toBe(false);
  });

  it('uses a fresh IV every time: equal values give different ciphertexts', () => {
    const a = cipher.encrypt('same', AAD).ciphertext;
    const b = cipher.encrypt('same', AAD).ciphertext;
    expect(a).not.toBe(b);
    expect(Buffer.from(a, 'base64').subarray(0, 12).equals(Buffer.from(b, 'base64').subarray(0, 12))).toBe(false);
  });

  it.each([
    ['a data byte', 12 + 16],
    ['a tag byte', 12],
    ['an IV byte', 0],
  ])('rejects a ciphertext with %s flipped', (_what, offset) => {
    const raw = Buffer.from(cipher.encrypt('sk_live_123', AAD).ciphertext, 'base64');
    raw[offset] ^= 0x01;
    expect(() => cipher.decrypt(raw.toString('base64'), 1, AAD)).toThrow(SecretDecryptionError);
  });

  it('rejects a truncated ciphertext', () => {
    const raw = Buffer.from(cipher.encrypt('sk_live_123', AAD).ciphertext, 'base64');
    expect(() => cipher.decrypt(raw.subarray(0, 20).toString('base64'), 1, AAD)).toThrow(/truncated/);
    expect(() => cipher.decrypt(raw.subarray(0, raw.length - 1).toString('base64'), 1, AAD)).toThrow(SecretDecryptionError);
  });

  it.each([
    ['another workspace', 'secret:ws_B:STRIPE_KEY'],
    ['another name', 'secret:ws_A:OTHER_KEY'],
    ['no AAD', ''],
  ])('rejects the right ciphertext under the wrong AAD (%s)', (_what, aad) => {
    const sealed = cipher.encrypt('sk_live_123', AAD);
    expect(() => cipher.decrypt(sealed.ciphertext, sealed.keyVersion, aad)).toThrow(SecretDecryptionError);
  });

  it('rejects a key version it does not know, and the right version with the wrong key', () => {
    const sealed = cipher.encrypt('sk_live_123', AAD);
    expect(() => cipher.decrypt(sealed.ciphertext, 7, AAD)).toThrow(/No master key with version 7/);
    expect(() => new SecretCipher(keys(1, KEY_2)).decrypt(sealed.ciphertext, 1, AAD)).toThrow(SecretDecryptionError);
  });

  it('keeps opening values sealed under a rotated-out key, and seals new ones with the new key', () => {
    const sealedV1 = new SecretCipher(keys(1, KEY_1)).encrypt('old value', AAD);
    const rotated = new SecretCipher(keys(2, KEY_2, [[1, KEY_1]]));
    expect(rotated.decrypt(sealedV1.ciphertext, sealedV1.keyVersion, AAD)).toBe('old value');
    const sealedV2 = rotated.encrypt('new value', AAD);
    expect(sealedV2.keyVersion).toBe(2);
    expect(rotated.decrypt(sealedV2.ciphertext, 2, AAD)).toBe('new value');
    // Dropping the retired key before re-encrypting loses the old values: that is the point of keeping it.
    expect(() => new SecretCipher(keys(2, KEY_2)).decrypt(sealedV1.ciphertext, 1, AAD)).toThrow(/No master key with version 1/);
  });

  it('never puts the plaintext or key into its errors', () => {
    const sealed = cipher.encrypt('sk_live_123', AAD);
    for (const attempt of [() => cipher.decrypt(sealed.ciphertext, 1, 'wrong'), () => cipher.decrypt(sealed.ciphertext, 9, AAD)]) {
      let message = '';
      try {
        attempt();
      } catch (e) {
        message = `${(e as Error).message} ${String((e as Error).cause ?? '')}`;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain('sk_live_123');
      expect(message).not.toContain(B64_1);
    }
  });
});

describe('parseMasterKeys', () => {
  it('reads the current key, its version and the retired keys', () => {
    const parsed = parseMasterKeys(B64_2, 2, ` 1:${B64_1} `);
    expect(parsed.current.version).toBe(2);
    expect(parsed.current.key.equals(KEY_2)).toBe(true);
    expect([...parsed.previous.keys()]).toEqual([1]);
    expect(parsed.previous.get(1)!.equals(KEY_1)).toBe(true);
  });

  it('accepts URL-safe base64 and no retired keys', () => {
    const parsed = parseMasterKeys(KEY_1.toString('base64url'), 1, '');
    expect(parsed.current.key.equals(KEY_1)).toBe(true);
    expect(parsed.previous.size).toBe(0);
    expect(parseMasterKeys(B64_1, 1, undefined).previous.size).toBe(0);
  });

  // Every input carries key material (real or near-real); none of it may appear in the message.
  const short = Buffer.alloc(16, 3).toString('base64');
  const long = Buffer.alloc(48, 4).toString('base64');
  it.each([
    ['missing key', undefined, 1, undefined, /^TRIGRUN_MASTER_KEY is required/],
    ['blank key', '   ', 1, undefined, /^TRIGRUN_MASTER_KEY is required/],
    ['16-byte key', short, 1, undefined, /^TRIGRUN_MASTER_KEY: must be base64 of exactly 32 bytes/],
    ['48-byte key', long, 1, undefined, /^TRIGRUN_MASTER_KEY: must be base64 of exactly 32 bytes/],
    ['not base64', `${B64_1.slice(0, 40)}!!!!`, 1, undefined, /^TRIGRUN_MASTER_KEY: must be base64/],
    ['hex instead of base64', KEY_1.toString('hex'), 1, undefined, /^TRIGRUN_MASTER_KEY: must be base64 of exactly 32 bytes/],
    ['version 0', B64_1, 0, undefined, /^TRIGRUN_MASTER_KEY_VERSION: must be an integer from 1/],
    ['fractional version', B64_1, 1.5, undefined, /^TRIGRUN_MASTER_KEY_VERSION: must be an integer/],
    ['entry without version', B64_2, 2, B64_1, /^TRIGRUN_PREVIOUS_MASTER_KEYS: entry 1 must look like "<version>:<base64 key>"/],
    ['non-numeric version', B64_2, 2, `v1:${B64_1}`, /^TRIGRUN_PREVIOUS_MASTER_KEYS: entry 1 must start with an integer version/],
    ['version 0 retired', B64_2, 2, `0:${B64_1}`, /^TRIGRUN_PREVIOUS_MASTER_KEYS: entry 1: version must be an integer from 1/],
    ['short retired key', B64_2, 3, `1:${B64_1},2:${short}`, /^TRIGRUN_PREVIOUS_MASTER_KEYS: the key of version 2 must be base64 of exactly 32 bytes/],
    ['duplicate version', B64_2, 3, `1:${B64_1},1:${B64_2}`, /^TRIGRUN_PREVIOUS_MASTER_KEYS: version 1 is listed twice/],
    ['current version retired too', B64_2, 2, `2:${B64_1}`, /^TRIGRUN_PREVIOUS_MASTER_KEYS lists version 2, which is TRIGRUN_MASTER_KEY_VERSION/],
  ])('rejects %s without echoing it', (_case, current, version, previous, expected) => {
    let message = '';
    try {
      parseMasterKeys(current, version, previous);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(expected);
    for (const material of [current, previous, B64_1, B64_2, short, long, KEY_1.toString('hex')]) {
      if (material && material.trim().length >= 8) expect(message).not.toContain(material.trim());
    }
  });

  it('decodeMasterKey ignores surrounding whitespace (a trailing newline from a secrets file)', () => {
    expect(decodeMasterKey(`${B64_1}\n`).equals(KEY_1)).toBe(true);
  });
});
