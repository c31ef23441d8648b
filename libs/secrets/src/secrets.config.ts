import { custom, type Field, int } from '@trigrun/config';
import { decodeMasterKey, type MasterKeys, parseMasterKeys, parsePreviousKeys } from './secret-cipher';

/**
 * Fields an app spreads into its config schema when it encrypts or decrypts secrets
 * (api-gateway, step-runner, notifier). Each is checked on its own at boot, so a bad key is
 * reported with the other config problems; `masterKeysFromConfig` then checks them together.
 */
export const secretsConfigSchema = {
  TRIGRUN_MASTER_KEY: {
    ...custom((raw) => {
      if (raw === undefined || raw.trim() === '') throw new Error('is required (generate one with `openssl rand -base64 32`)');
      decodeMasterKey(raw);
      return raw.trim();
    }),
    secret: true,
  } satisfies Field<string>,
  /** The version new values are sealed under; bump it whenever TRIGRUN_MASTER_KEY changes. */
  TRIGRUN_MASTER_KEY_VERSION: int({ default: 1, min: 1, max: 2_147_483_647 }),
  /** Retired keys as "1:<base64>,2:<base64>", so values sealed under them still open. */
  TRIGRUN_PREVIOUS_MASTER_KEYS: {
    ...custom((raw) => {
      if (raw === undefined || raw.trim() === '') return undefined;
      parsePreviousKeys(raw);
      return raw;
    }),
    secret: true,
  } satisfies Field<string | undefined>,
};

export interface SecretsConfig {
  readonly TRIGRUN_MASTER_KEY: string;
  readonly TRIGRUN_MASTER_KEY_VERSION: number;
  readonly TRIGRUN_PREVIOUS_MASTER_KEYS: string | undefined;
}

export function masterKeysFromConfig(config: SecretsConfig): MasterKeys {
  return parseMasterKeys(config.TRIGRUN_MASTER_KEY, config.TRIGRUN_MASTER_KEY_VERSION, config.TRIGRUN_PREVIOUS_MASTER_KEYS);
}
