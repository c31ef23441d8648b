import { ConfigError, parseConfig } from '@trigrun/config';
import { masterKeysFromConfig, secretsConfigSchema } from './secrets.config';

const KEY_1 = Buffer.alloc(32, 1).toString('base64');
const KEY_2 = Buffer.alloc(32, 2).toString('base64');

describe('secretsConfigSchema', () => {
  it('parses the three variables, with version 1 and no retired keys by default', () => {
    const config = parseConfig(secretsConfigSchema, { TRIGRUN_MASTER_KEY: KEY_1 });
    expect(config).toEqual({ TRIGRUN_MASTER_KEY: KEY_1, TRIGRUN_MASTER_KEY_VERSION: 1, TRIGRUN_PREVIOUS_MASTER_KEYS: undefined });
    expect(masterKeysFromConfig(config).current.version).toBe(1);
  });

  it('builds the key ring of a rotation', () => {
    const config = parseConfig(secretsConfigSchema, { TRIGRUN_MASTER_KEY: KEY_2, TRIGRUN_MASTER_KEY_VERSION: '2', TRIGRUN_PREVIOUS_MASTER_KEYS: `1:${KEY_1}` });
    const keys = masterKeysFromConfig(config);
    expect(keys.current.version).toBe(2);
    expect([...keys.previous.keys()]).toEqual([1]);
  });

  it('reports every bad variable at once, naming each and echoing no key', () => {
    const shortKey = Buffer.alloc(31, 9).toString('base64');
    let error: unknown;
    try {
      parseConfig(secretsConfigSchema, { TRIGRUN_MASTER_KEY: shortKey, TRIGRUN_MASTER_KEY_VERSION: '0', TRIGRUN_PREVIOUS_MASTER_KEYS: `1:${shortKey}` });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual([
      expect.stringMatching(/^TRIGRUN_MASTER_KEY: must be base64 of exactly 32 bytes/),
      expect.stringMatching(/^TRIGRUN_MASTER_KEY_VERSION must be >= 1/),
      expect.stringMatching(/^TRIGRUN_PREVIOUS_MASTER_KEYS: the key of version 1 must be base64 of exactly 32 bytes/),
    ]);
    expect((error as Error).message).not.toContain(shortKey);
  });

  it('requires the master key', () => {
    expect(() => parseConfig(secretsConfigSchema, {})).toThrow(/TRIGRUN_MASTER_KEY: is required/);
  });

  it('marks the key variables as secret', () => {
    expect(secretsConfigSchema.TRIGRUN_MASTER_KEY.secret).toBe(true);
    expect(secretsConfigSchema.TRIGRUN_PREVIOUS_MASTER_KEYS.secret).toBe(true);
  });
});
