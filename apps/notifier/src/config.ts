import { custom, parseConfig, platformSchema } from '@trigrun/config';
import { parseAllowlist } from '@trigrun/http-client';

export const configSchema = {
  ...platformSchema,
  /** Comma-separated CIDRs and host names that callbacks may reach although private (docs/outbound-requests.md). */
  TRIGRUN_OUTBOUND_ALLOWLIST: custom((raw) => {
    parseAllowlist(raw);
    return raw ?? '';
  }),
};

export type ServiceConfig = ReturnType<typeof loadConfig>;
export const loadConfig = (env = process.env) => parseConfig(configSchema, env);
