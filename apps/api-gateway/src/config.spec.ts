import { randomBytes } from 'node:crypto';
import { loadConfig } from './config';

const required = { TRIGRUN_JWT_SECRET: 'j'.repeat(32), TRIGRUN_MASTER_KEY: randomBytes(32).toString('base64') };

/** The defaults docs/limits.md and the README promise. */
describe('api-gateway limits config', () => {
  it('defaults to the documented limits', () => {
    expect(loadConfig(required)).toMatchObject({
      TRIGRUN_RATE_LIMIT_LOGIN_ACCOUNT: { max: 10, windowMs: 600_000 },
      TRIGRUN_RATE_LIMIT_LOGIN_ADDRESS: { max: 20, windowMs: 60_000 },
      TRIGRUN_RATE_LIMIT_SIGNUP_ADDRESS: { max: 10, windowMs: 3_600_000 },
      TRIGRUN_RATE_LIMIT_TOKEN: { max: 1200, windowMs: 60_000 },
      TRIGRUN_RATE_LIMIT_RUN_NOW: { max: 120, windowMs: 60_000 },
      TRIGRUN_QUOTA_JOBS: 1000,
      TRIGRUN_TRUSTED_PROXY_HOPS: 0,
    });
  });

  it('takes other values and off, and names a bad one', () => {
    expect(loadConfig({ ...required, TRIGRUN_RATE_LIMIT_TOKEN: 'off', TRIGRUN_QUOTA_JOBS: 'off', TRIGRUN_RATE_LIMIT_RUN_NOW: '2/5s' })).toMatchObject({
      TRIGRUN_RATE_LIMIT_TOKEN: null,
      TRIGRUN_QUOTA_JOBS: null,
      TRIGRUN_RATE_LIMIT_RUN_NOW: { max: 2, windowMs: 5_000 },
    });
    expect(() => loadConfig({ ...required, TRIGRUN_RATE_LIMIT_LOGIN_ACCOUNT: '10 per minute' })).toThrow(/TRIGRUN_RATE_LIMIT_LOGIN_ACCOUNT: must be <max>\/<window>/);
  });
});
