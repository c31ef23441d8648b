import { CronSyntaxError, nextCronOccurrence, parseCron } from './cron';
import { isValidTimezone } from './time-zone';

/**
 * A job's `schedule` block: validation with every problem collected (the API edge turns them into
 * one 400), and the next run it implies. Pure: `now` and the anchor come in as arguments.
 */

export interface Problem {
  readonly field: string;
  readonly message: string;
}

export type NormalizedSchedule =
  | { readonly every_n_minutes: number }
  | { readonly cron: string; readonly timezone: string }
  | { readonly run_at: string };

export type ScheduledKind = 'recurring' | 'cron' | 'scheduled' | 'one_time' | 'workflow' | 'webhook_trigger';

export const EVERY_N_MINUTES_MIN = 1;
export const EVERY_N_MINUTES_MAX = 1440;
export const DEFAULT_TIMEZONE = 'UTC';

const FIELD = 'schedule';
/** Which schedule keys each kind accepts. `timezone` only ever accompanies `cron`. */
const KEYS_BY_KIND: Readonly<Record<ScheduledKind, readonly string[]>> = {
  recurring: ['every_n_minutes'],
  cron: ['cron', 'timezone'],
  scheduled: ['run_at'],
  workflow: ['every_n_minutes', 'cron', 'timezone', 'run_at'],
  one_time: [],
  webhook_trigger: [],
};
const ALL_KEYS = new Set(KEYS_BY_KIND.workflow);

/**
 * `YYYY-MM-DDTHH:MM[:SS[.fff…]]` with `Z` or a numeric offset. A time without an offset is
 * refused: it would silently mean the server's zone.
 */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * Validates and normalises `input` for a job of `kind`:
 * - `recurring`: `{every_n_minutes}` (integer 1–1440);
 * - `cron`: `{cron, timezone?}` (timezone defaults to UTC; the expression is re-spaced);
 * - `scheduled`: `{run_at}` strictly after `now`, returned as ISO-8601 UTC with milliseconds;
 * - `workflow`: exactly one of those three shapes;
 * - `one_time`, `webhook_trigger`: no schedule (absent or null), value null.
 * Keys whose value is null count as absent. `value` is null whenever there are problems.
 */
export function normalizeSchedule(
  kind: ScheduledKind,
  input: unknown,
  now: Date,
): { value: NormalizedSchedule | null; problems: Problem[] } {
  const allowed = KEYS_BY_KIND[kind];
  if (allowed === undefined) return { value: null, problems: [{ field: 'kind', message: 'is not a known job kind' }] };
  if (allowed.length === 0) {
    if (input === undefined || input === null) return { value: null, problems: [] };
    return { value: null, problems: [{ field: FIELD, message: `is not allowed for ${kind} jobs` }] };
  }
  if (input === undefined || input === null) return { value: null, problems: [{ field: FIELD, message: 'is required' }] };
  if (typeof input !== 'object' || Array.isArray(input)) return { value: null, problems: [{ field: FIELD, message: 'must be an object' }] };

  const problems: Problem[] = [];
  const given = new Map<string, unknown>();
  for (const [key, value] of Object.entries(input)) {
    if (!ALL_KEYS.has(key)) problems.push({ field: `${FIELD}.${key}`, message: 'is not a schedule field' });
    else if (value === undefined || value === null) continue;
    else if (!allowed.includes(key)) problems.push({ field: `${FIELD}.${key}`, message: `is not allowed for ${kind} jobs` });
    else given.set(key, value);
  }

  let shape: 'every_n_minutes' | 'cron' | 'run_at' | null;
  if (kind === 'workflow') {
    const shapes = (['every_n_minutes', 'cron', 'run_at'] as const).filter((k) => given.has(k));
    if (shapes.length !== 1) problems.push({ field: FIELD, message: 'must have exactly one of cron, every_n_minutes or run_at' });
    if (given.has('timezone') && !given.has('cron')) problems.push({ field: `${FIELD}.timezone`, message: 'is only allowed with cron' });
    shape = shapes.length === 1 ? shapes[0]! : null;
    // With two shapes given, still report what is wrong inside each.
    for (const extra of shapes.length > 1 ? shapes : []) checkShape(extra, given, now, problems);
  } else {
    shape = kind === 'recurring' ? 'every_n_minutes' : kind === 'cron' ? 'cron' : 'run_at';
  }

  const value = shape === null ? null : checkShape(shape, given, now, problems);
  return problems.length > 0 ? { value: null, problems } : { value, problems };
}

function checkShape(shape: 'every_n_minutes' | 'cron' | 'run_at', given: Map<string, unknown>, now: Date, problems: Problem[]): NormalizedSchedule | null {
  switch (shape) {
    case 'every_n_minutes': {
      const n = checkEveryNMinutes(given.get('every_n_minutes'), problems);
      return n === null ? null : { every_n_minutes: n };
    }
    case 'cron': {
      const cron = checkCron(given.get('cron'), problems);
      const timezone = checkTimezone(given.get('timezone'), problems);
      return cron === null || timezone === null ? null : { cron, timezone };
    }
    case 'run_at': {
      const runAt = checkRunAt(given.get('run_at'), now, problems);
      return runAt === null ? null : { run_at: runAt };
    }
  }
}

function checkEveryNMinutes(value: unknown, problems: Problem[]): number | null {
  const field = `${FIELD}.every_n_minutes`;
  if (value === undefined) return required(field, problems);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < EVERY_N_MINUTES_MIN || value > EVERY_N_MINUTES_MAX) {
    problems.push({ field, message: `must be an integer from ${EVERY_N_MINUTES_MIN} to ${EVERY_N_MINUTES_MAX}` });
    return null;
  }
  return value;
}

function checkCron(value: unknown, problems: Problem[]): string | null {
  const field = `${FIELD}.cron`;
  if (value === undefined) return required(field, problems);
  if (typeof value !== 'string') {
    problems.push({ field, message: 'must be a string' });
    return null;
  }
  try {
    return parseCron(value).source;
  } catch (error) {
    if (!(error instanceof CronSyntaxError)) throw error;
    problems.push({ field, message: error.message });
    return null;
  }
}

function checkTimezone(value: unknown, problems: Problem[]): string | null {
  const field = `${FIELD}.timezone`;
  if (value === undefined) return DEFAULT_TIMEZONE;
  if (typeof value !== 'string' || !isValidTimezone(value)) {
    problems.push({ field, message: 'must be an IANA time zone name such as "Europe/Berlin"' });
    return null;
  }
  return value;
}

function checkRunAt(value: unknown, now: Date, problems: Problem[]): string | null {
  const field = `${FIELD}.run_at`;
  if (value === undefined) return required(field, problems);
  const instant = typeof value === 'string' ? parseIsoInstant(value) : null;
  if (instant === null) {
    problems.push({ field, message: 'must be an ISO-8601 timestamp with a time zone offset, e.g. "2026-05-01T09:00:00Z"' });
    return null;
  }
  if (instant.getTime() <= now.getTime()) {
    problems.push({ field, message: 'must be in the future' });
    return null;
  }
  return instant.toISOString();
}

/** Strict ISO-8601: `Date.parse` alone would roll 2026-02-30 over into March. */
function parseIsoInstant(text: string): Date | null {
  const match = ISO_INSTANT.exec(text);
  if (match === null) return null;
  const [, year, month, day, hour, minute, second = '0', fraction = '', zone] = match;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate() || h > 23 || mi > 59 || s > 59) return null;
  let offsetMinutes = 0;
  if (zone!.toUpperCase() !== 'Z') {
    const [oh, om] = zone!.slice(1).split(':').map(Number) as [number, number];
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (zone!.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
  const wall = new Date(0);
  wall.setUTCFullYear(y, mo - 1, d);
  wall.setUTCHours(h, mi, s, ms);
  return new Date(wall.getTime() - offsetMinutes * 60_000);
}

function required(field: string, problems: Problem[]): null {
  problems.push({ field, message: 'is required' });
  return null;
}

const MINUTE_MS = 60_000;

/**
 * When a job with `schedule` runs next after `after` (strictly), or null if never again.
 * - `every_n_minutes`: the first `anchor + k·n` minutes (k ≥ 1) after `after`; the anchor is the
 *   job's creation, so resuming a paused job keeps the original rhythm and skips missed runs;
 * - `cron`: the next occurrence in the schedule's time zone;
 * - `run_at`: that instant if it is still ahead, otherwise null.
 */
export function nextRunAt(schedule: NormalizedSchedule, opts: { anchor: Date; after: Date }): Date | null {
  const after = opts.after.getTime();
  if ('every_n_minutes' in schedule) {
    const period = schedule.every_n_minutes * MINUTE_MS;
    const anchor = opts.anchor.getTime();
    const k = Math.max(1, Math.floor((after - anchor) / period) + 1);
    return new Date(anchor + k * period);
  }
  if ('cron' in schedule) return nextCronOccurrence(parseCron(schedule.cron), opts.after, schedule.timezone);
  const runAt = Date.parse(schedule.run_at);
  return runAt > after ? new Date(runAt) : null;
}
