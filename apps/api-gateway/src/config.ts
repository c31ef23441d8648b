import { bool, custom, int, optionalStr, parseConfig, platformSchema, str } from '@trigrun/config';
import { quotaField, rateLimitField } from '@trigrun/rate-limits';
import { secretsConfigSchema } from '@trigrun/secrets';

/** The limits' defaults, in one place: docs/limits.md explains each. */
export const LIMIT_DEFAULTS = {
  TRIGRUN_RATE_LIMIT_LOGIN_ACCOUNT: '10/10m',
  TRIGRUN_RATE_LIMIT_LOGIN_ADDRESS: '20/1m',
  TRIGRUN_RATE_LIMIT_SIGNUP_ADDRESS: '10/1h',
  TRIGRUN_RATE_LIMIT_TOKEN: '1200/1m',
  TRIGRUN_RATE_LIMIT_RUN_NOW: '120/1m',
  TRIGRUN_QUOTA_JOBS: 1000,
} as const;

export const apiGatewaySchema = {
  ...platformSchema,
  ...secretsConfigSchema,
  TRIGRUN_JWT_SECRET: str({ minLength: 32, secret: true }),
  TRIGRUN_SIGNUP_ENABLED: bool({ default: true }),
  /** Local mode only: the public token endpoints are forwarded to trigger-ingest at this URL. */
  TRIGRUN_TRIGGER_INGEST_URL: custom((raw) => {
    if (!raw) return undefined;
    const url = new URL(raw);
    if (url.protocol !== 'http:') throw new Error('must be an http URL');
    return raw.replace(/\/+$/, '');
  }),
  TRIGRUN_CORS_ORIGINS: optionalStr(),
  /** The gateway's /metrics listener, apart from its public port (0: none). `npm start` uses PORT + 5. */
  TRIGRUN_METRICS_PORT: int({ default: 0, min: 0, max: 65535 }),
  TRIGRUN_METRICS_HOST: str({ default: '127.0.0.1' }),
  /** Login attempts per e-mail address, successful or not. */
  TRIGRUN_RATE_LIMIT_LOGIN_ACCOUNT: rateLimitField(LIMIT_DEFAULTS.TRIGRUN_RATE_LIMIT_LOGIN_ACCOUNT),
  /** Login attempts per source address. */
  TRIGRUN_RATE_LIMIT_LOGIN_ADDRESS: rateLimitField(LIMIT_DEFAULTS.TRIGRUN_RATE_LIMIT_LOGIN_ADDRESS),
  /** Signups per source address. */
  TRIGRUN_RATE_LIMIT_SIGNUP_ADDRESS: rateLimitField(LIMIT_DEFAULTS.TRIGRUN_RATE_LIMIT_SIGNUP_ADDRESS),
  /** Requests per bearer token (API token or login JWT). */
  TRIGRUN_RATE_LIMIT_TOKEN: rateLimitField(LIMIT_DEFAULTS.TRIGRUN_RATE_LIMIT_TOKEN),
  /** run-now calls per workspace. */
  TRIGRUN_RATE_LIMIT_RUN_NOW: rateLimitField(LIMIT_DEFAULTS.TRIGRUN_RATE_LIMIT_RUN_NOW),
  /** Jobs a workspace may hold (deleted ones do not count). */
  TRIGRUN_QUOTA_JOBS: quotaField(LIMIT_DEFAULTS.TRIGRUN_QUOTA_JOBS),
  /** How many proxies of ours append to X-Forwarded-For in front of the gateway (0: clients connect directly). */
  TRIGRUN_TRUSTED_PROXY_HOPS: int({ default: 0, min: 0, max: 10 }),
};

export type ApiGatewayConfig = ReturnType<typeof loadConfig>;
export const loadConfig = (env = process.env) => parseConfig(apiGatewaySchema, env);
