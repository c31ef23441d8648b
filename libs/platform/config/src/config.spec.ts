import { ConfigError, bool, int, optionalInt, parseConfig, str, url } from './config';

const schema = {
  PORT: int({ default: 3000, min: 1, max: 65535 }),
  TRIGRUN_JWT_SECRET: str({ minLength: 32, secret: true }),
  TRIGRUN_NATS_URL: url({ default: 'nats://127.0.0.1:4222', protocols: ['nats'] }),
  TRIGRUN_SIGNUP_ENABLED: bool({ default: true }),
};

describe('parseConfig', () => {
  it('applies defaults and parses values', () => {
    const config = parseConfig(schema, { TRIGRUN_JWT_SECRET: 'x'.repeat(32), PORT: '8080', TRIGRUN_SIGNUP_ENABLED: 'false' });
    expect(config).toEqual({
      PORT: 8080,
      TRIGRUN_JWT_SECRET: 'x'.repeat(32),
      TRIGRUN_NATS_URL: 'nats://127.0.0.1:4222',
      TRIGRUN_SIGNUP_ENABLED: false,
    });
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      parseConfig(schema, { PORT: 'eighty', TRIGRUN_NATS_URL: 'http://x', TRIGRUN_SIGNUP_ENABLED: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/PORT must be an integer/);
    expect(problems.join('\n')).toMatch(/TRIGRUN_JWT_SECRET is required/);
    expect(problems.join('\n')).toMatch(/TRIGRUN_NATS_URL must use nats/);
    expect(problems.join('\n')).toMatch(/TRIGRUN_SIGNUP_ENABLED must be true or false/);
  });

  it('never echoes the value of a secret variable', () => {
    expect(() => parseConfig(schema, { TRIGRUN_JWT_SECRET: 'short-secret' })).toThrow(/at least 32 characters/);
    expect(() => parseConfig(schema, { TRIGRUN_JWT_SECRET: 'short-secret' })).not.toThrow(/short-secret/);
  });

  it('leaves an optional integer undefined when unset, and checks it like any integer when set', () => {
    const optional = { CAP: optionalInt({ min: 1, max: 10 }) };
    expect(parseConfig(optional, {})).toEqual({ CAP: undefined });
    expect(parseConfig(optional, { CAP: ' ' })).toEqual({ CAP: undefined });
    expect(parseConfig(optional, { CAP: '7' })).toEqual({ CAP: 7 });
    expect(() => parseConfig(optional, { CAP: '0' })).toThrow(/CAP must be >= 1, got 0/);
    expect(() => parseConfig(optional, { CAP: '11' })).toThrow(/CAP must be <= 10/);
    expect(() => parseConfig(optional, { CAP: 'half' })).toThrow(/CAP must be an integer/);
  });
});
