/**
 * Config is parsed and validated once at boot. Every problem is collected, so an operator sees
 * all bad variables in one message instead of fixing them one restart at a time.
 */
export type Env = Record<string, string | undefined>;

export interface Field<T> {
  readonly parse: (raw: string | undefined, name: string) => T;
  readonly secret?: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

class Invalid extends Error {}

export const str = (opts: { default?: string; minLength?: number; secret?: boolean } = {}): Field<string> => ({
  secret: opts.secret,
  parse(raw, name) {
    const value = raw === undefined || raw === '' ? opts.default : raw;
    if (value === undefined) throw new Invalid(`${name} is required`);
    if (opts.minLength !== undefined && value.length < opts.minLength) {
      throw new Invalid(`${name} must be at least ${opts.minLength} characters`);
    }
    return value;
  },
});

export const optionalStr = (): Field<string | undefined> => ({
  parse: (raw) => (raw === undefined || raw === '' ? undefined : raw),
});

export const int = (opts: { default?: number; min?: number; max?: number }): Field<number> => ({
  parse(raw, name) {
    if (raw === undefined || raw === '') {
      if (opts.default === undefined) throw new Invalid(`${name} is required`);
      return opts.default;
    }
    return parseInteger(raw, name, opts);
  },
});

/** An integer that may be left unset: `undefined` then, for a default the app derives from other settings. */
export const optionalInt = (opts: { min?: number; max?: number }): Field<number | undefined> => ({
  parse: (raw, name) => (raw === undefined || raw.trim() === '' ? undefined : parseInteger(raw, name, opts)),
});

function parseInteger(raw: string, name: string, opts: { min?: number; max?: number }): number {
  if (!/^-?\d+$/.test(raw.trim())) throw new Invalid(`${name} must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (opts.min !== undefined && value < opts.min) throw new Invalid(`${name} must be >= ${opts.min}, got ${value}`);
  if (opts.max !== undefined && value > opts.max) throw new Invalid(`${name} must be <= ${opts.max}, got ${value}`);
  return value;
}

export const bool = (opts: { default: boolean }): Field<boolean> => ({
  parse(raw, name) {
    if (raw === undefined || raw === '') return opts.default;
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw new Invalid(`${name} must be true or false, got "${raw}"`);
  },
});

export const url = (opts: { default?: string; protocols: string[]; secret?: boolean }): Field<string> => ({
  secret: opts.secret,
  parse(raw, name) {
    const value = raw === undefined || raw === '' ? opts.default : raw;
    if (value === undefined) throw new Invalid(`${name} is required`);
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new Invalid(`${name} must be a URL`);
    }
    if (!opts.protocols.includes(parsed.protocol.replace(/:$/, ''))) {
      throw new Invalid(`${name} must use ${opts.protocols.join(' or ')}, got ${parsed.protocol}`);
    }
    return value.replace(/\/+$/, '');
  },
});

export const oneOf = <T extends string>(values: readonly T[], opts: { default: T }): Field<T> => ({
  parse(raw, name) {
    if (raw === undefined || raw === '') return opts.default;
    if (!(values as readonly string[]).includes(raw)) throw new Invalid(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  },
});

/** A field whose value is checked by `check` (which throws an Error with a message on bad input). */
export const custom = <T>(check: (raw: string | undefined) => T): Field<T> => ({
  parse(raw, name) {
    try {
      return check(raw);
    } catch (e) {
      throw new Invalid(`${name}: ${(e as Error).message}`);
    }
  },
});

export type Schema = Record<string, Field<unknown>>;
export type ConfigOf<S extends Schema> = { readonly [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export function parseConfig<S extends Schema>(schema: S, env: Env): ConfigOf<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema)) {
    try {
      out[name] = field.parse(env[name], name);
    } catch (e) {
      if (e instanceof Invalid) problems.push(e.message);
      else throw e;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as ConfigOf<S>;
}
