import { type Field, custom } from '@trigrun/config';

/** At most `max` requests per `windowMs`, counted in a fixed window that opens with the first one. */
export interface RateLimit {
  readonly max: number;
  readonly windowMs: number;
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;
const MAX_WINDOW_MS = 24 * UNIT_MS.h;

/**
 * Parses `<max>/<window>` (`10/10m`, `1200/1m`, `5/30s`, `20/1h`; a bare unit means one of it:
 * `60/m`), or `off` for no limit. Throws with a message an operator can act on.
 */
export function parseRateLimit(raw: string): RateLimit | null {
  const text = raw.trim().toLowerCase();
  if (text === 'off') return null;
  const match = /^(\d{1,9})\s*\/\s*(\d{0,6})\s*([smh])$/.exec(text);
  if (!match) throw new Error(`must be <max>/<window> such as 10/1m, 600/1h or 5/30s, or off; got "${raw}"`);
  const max = Number(match[1]);
  const windowMs = Number(match[2] || '1') * UNIT_MS[match[3] as keyof typeof UNIT_MS];
  if (max < 1) throw new Error('the maximum must be at least 1 (use off for no limit)');
  if (windowMs < 1_000 || windowMs > MAX_WINDOW_MS) throw new Error('the window must be between 1s and 24h');
  return { max, windowMs };
}

/** A config field holding a rate limit; empty means `defaultValue`. */
export const rateLimitField = (defaultValue: string): Field<RateLimit | null> =>
  custom((raw) => parseRateLimit(raw === undefined || raw.trim() === '' ? defaultValue : raw));

/** A config field holding a count quota (a positive integer, or `off`); empty means `defaultValue`. */
export const quotaField = (defaultValue: number | 'off'): Field<number | null> =>
  custom((raw) => {
    const text = raw === undefined || raw.trim() === '' ? String(defaultValue) : raw.trim().toLowerCase();
    if (text === 'off') return null;
    if (!/^\d{1,9}$/.test(text) || Number(text) < 1) throw new Error(`must be a positive integer or off; got "${raw}"`);
    return Number(text);
  });

/** "10 per 10 minutes", for messages. */
export function describeLimit(limit: RateLimit): string {
  const { windowMs } = limit;
  const [n, unit] = windowMs % UNIT_MS.h === 0 ? [windowMs / UNIT_MS.h, 'hour'] : windowMs % UNIT_MS.m === 0 ? [windowMs / UNIT_MS.m, 'minute'] : [windowMs / UNIT_MS.s, 'second'];
  return `${limit.max} per ${n === 1 ? unit : `${n} ${unit}s`}`;
}
