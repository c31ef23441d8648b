import { parseConfig, platformSchema } from '@trigrun/config';

export const configSchema = { ...platformSchema };

export type ServiceConfig = ReturnType<typeof loadConfig>;
export const loadConfig = (env = process.env) => parseConfig(configSchema, env);
