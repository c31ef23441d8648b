import { custom, int, optionalInt, parseConfig, platformSchema } from '@trigrun/config';
import { parseAllowlist } from '@trigrun/http-client';
import { secretsConfigSchema } from '@trigrun/secrets';

export const stepRunnerSchema = {
  ...platformSchema,
  ...secretsConfigSchema,
  /** Comma-separated CIDRs and host names admitted as private targets (docs/outbound-requests.md). Empty: public targets only. */
  TRIGRUN_OUTBOUND_ALLOWLIST: custom((raw) => {
    parseAllowlist(raw);
    return raw ?? '';
  }),
  /** Executions advanced at once by one replica (most of that time is spent waiting on targets). */
  TRIGRUN_ENGINE_CONCURRENCY: int({ default: 256, min: 1, max: 4096 }),
  /**
   * Executions of one workspace advanced at once by one replica, so no workspace can take every
   * slot (docs/fairness.md). Unset: a quarter of TRIGRUN_ENGINE_CONCURRENCY. A value at or above
   * the engine concurrency turns the cap off (workspaces still take turns for free slots).
   */
  TRIGRUN_WORKSPACE_MAX_IN_FLIGHT: optionalInt({ min: 1, max: 4096 }),
};

export type StepRunnerConfig = ReturnType<typeof loadConfig>;
export const loadConfig = (env = process.env) => parseConfig(stepRunnerSchema, env);
