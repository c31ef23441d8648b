import { bool, custom, optionalStr, parseConfig, platformSchema, str } from '@trigrun/config';
import { secretsConfigSchema } from '@trigrun/secrets';

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
};

export type ApiGatewayConfig = ReturnType<typeof loadConfig>;
export const loadConfig = (env = process.env) => parseConfig(apiGatewaySchema, env);
