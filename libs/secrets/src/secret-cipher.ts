import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
/** 96-bit IVs are GCM's native size; a fresh random one per encryption keeps (key, IV) pairs unique. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAX_KEY_VERSION = 2_147_483_647; // stored in a Postgres `integer`
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const KEY_HINT = 'generate one with `openssl rand -base64 32`';

export interface MasterKeys {
  readonly current: { readonly version: number; readonly key: Buffer };
  /** Retired keys, by version, kept so rows written under them still decrypt. */
  readonly previous: ReadonlyMap<number, Buffer>;
}

export interface Sealed {
  /** base64 of iv (12 bytes) | auth tag (16 bytes) | encrypted data. */
  readonly ciphertext: string;
  readonly keyVersion: number;
}

/**
 * A stored value could not be opened: its key version is unknown, or the data, tag or AAD do not
 * match (tampered, truncated, or copied to another workspace or name). Never retryable. The
 * message names no key material and no plaintext.
 */
export class SecretDecryptionError extends Error {
  readonly code = 'secret_undecryptable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretDecryptionError';
  }
}

/**
 * AES-256-GCM under a versioned master key. New values are always sealed with the current key;
 * any known version opens. The AAD is authenticated, not stored: the caller must present the same
 * string to decrypt, which is what binds a ciphertext to the row it belongs to.
 */
export class SecretCipher {
  constructor(private readonly keys: MasterKeys) {}

  get currentKeyVersion(): number {
    return this.keys.current.version;
  }

  encrypt(plaintext: string, aad: string): Sealed {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.keys.current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { ciphertext: Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64'), keyVersion: this.keys.current.version };
  }

  decrypt(ciphertext: string, keyVersion: number, aad: string): string {
    const key = keyVersion === this.keys.current.version ? this.keys.current.key : this.keys.previous.get(keyVersion);
    if (!key) throw new SecretDecryptionError(`No master key with version ${keyVersion} is configured`);
    const sealed = Buffer.from(ciphertext, 'base64');
    if (sealed.length < IV_BYTES + TAG_BYTES) throw new SecretDecryptionError('The ciphertext is truncated');
    try {
      const decipher = createDecipheriv(ALGORITHM, key, sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw new SecretDecryptionError('The ciphertext does not authenticate (tampered, or bound to another workspace or name)', { cause });
    }
  }
}

/**
 * Reads the three master-key variables. Every message names the variable and what is wrong, never
 * the value: these errors end up in boot logs.
 *   current          TRIGRUN_MASTER_KEY, base64 of exactly 32 bytes
 *   currentVersion   TRIGRUN_MASTER_KEY_VERSION, integer >= 1
 *   previous         TRIGRUN_PREVIOUS_MASTER_KEYS, optional "1:<base64>,2:<base64>"
 */
export function parseMasterKeys(current: string | undefined, currentVersion: number, previous: string | undefined): MasterKeys {
  if (current === undefined || current.trim() === '') throw new Error(`TRIGRUN_MASTER_KEY is required (${KEY_HINT})`);
  const key = withName('TRIGRUN_MASTER_KEY', () => decodeMasterKey(current));
  withName('TRIGRUN_MASTER_KEY_VERSION', () => checkVersion(currentVersion));
  const retired = withName('TRIGRUN_PREVIOUS_MASTER_KEYS', () => parsePreviousKeys(previous));
  if (retired.has(currentVersion)) {
    throw new Error(`TRIGRUN_PREVIOUS_MASTER_KEYS lists version ${currentVersion}, which is TRIGRUN_MASTER_KEY_VERSION; give the new key a new version`);
  }
  return { current: { version: currentVersion, key }, previous: retired };
}

/** A 32-byte key from base64 (standard or URL-safe alphabet). The message never echoes the input. */
export function decodeMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = BASE64.test(trimmed) ? Buffer.from(trimmed, 'base64') : null;
  if (!key || key.length !== KEY_BYTES) throw new Error(`must be base64 of exactly ${KEY_BYTES} bytes (${KEY_HINT})`);
  return key;
}

/** `"1:<base64>,2:<base64>"` → versions to keys. Blank or absent means no retired keys. */
export function parsePreviousKeys(text: string | undefined): Map<number, Buffer> {
  const keys = new Map<number, Buffer>();
  if (text === undefined || text.trim() === '') return keys;
  const entries = text.split(',').map((e) => e.trim());
  entries.forEach((entry, index) => {
    const position = `entry ${index + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Error(`${position} must look like "<version>:<base64 key>"`);
    const versionText = entry.slice(0, colon).trim();
    if (!/^\d+$/.test(versionText)) throw new Error(`${position} must start with an integer version`);
    const version = Number(versionText);
    try {
      checkVersion(version);
    } catch (e) {
      throw new Error(`${position}: version ${(e as Error).message}`);
    }
    if (keys.has(version)) throw new Error(`version ${version} is listed twice`);
    try {
      keys.set(version, decodeMasterKey(entry.slice(colon + 1)));
    } catch (e) {
      throw new Error(`the key of version ${version} ${(e as Error).message}`);
    }
  });
  return keys;
}

function checkVersion(version: number): void {
  if (!Number.isInteger(version) || version < 1 || version > MAX_KEY_VERSION) throw new Error(`must be an integer from 1 to ${MAX_KEY_VERSION}`);
}

function withName<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new Error(`${name}: ${(e as Error).message}`);
  }
}
