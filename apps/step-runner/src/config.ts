import { custom, int, parseConfig, platformSchema } from '@trigrun/config';
import { parseAllowlist } from '@trigrun/http-client';
import { secretsConfigSchema } from '@trigrun/secrets';

export const stepRunnerSchema = {
  ...platformSchema,
  ...secretsConfigSchema,
  /** Comma-separated CIDRs and host names admitted as private targets (SPEC §14). Empty: public targets only. */
  TRIGRUN_OUTBOUND_ALLOWLIST: custom((raw) => {
    parseAllowlist(raw);
    return raw ?? '';
  }),
  /** Executions advanced at once by one replica (most of that time is spent waiting on targets). */
  TRIGRUN_ENGINE_CONCURRENCY: int({ default: 256, min: 1, max: 4096 }),
};

export type StepRunnerConfig = ReturnType<typeof loadConfig>;
export const loadConfig = (env = process.env) => parseConfig(stepRunnerSchema, env);
