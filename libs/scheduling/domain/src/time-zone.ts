/**
 * Time-zone maths on top of `Intl.DateTimeFormat` (the runtime's ICU copy of the IANA database).
 *
 * Vocabulary used here and in `cron.ts`:
 * - an *instant* is a UTC epoch in milliseconds;
 * - a *wall time* (local reading) is what a clock in the zone shows, encoded as the epoch
 *   milliseconds of the same calendar fields read as UTC (so `Date.UTC(2026, 2, 8, 2, 30)` is the
 *   wall time 2026-03-08 02:30 in whatever zone is being discussed);
 * - the *offset* at an instant is `wallTime - instant`.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * One formatter per zone. Building an `Intl.DateTimeFormat` costs far more than using one, and the
 * cache only memoises a pure constructor, so the functions below stay referentially transparent.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * Whether the runtime knows `timeZone` as an IANA zone name or alias (`Europe/Berlin`, `UTC`,
 * `US/Eastern`). ICU matches names case-insensitively; numeric offsets such as `+05:30` are not
 * zones and are refused.
 */
export function isValidTimezone(timeZone: string): boolean {
  if (typeof timeZone !== 'string' || timeZone.length === 0 || timeZone.length > 64) return false;
  if (!/^[A-Za-z]/.test(timeZone)) return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** `wallTime - instant` at `instant`, in ms. Zone offsets are whole seconds, so ms are dropped. */
export function offsetAt(instant: number, timeZone: string): number {
  if (timeZone === 'UTC') return 0;
  const second = Math.floor(instant / 1000) * 1000;
  const fields: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(second)) fields[part.type] = part.value;
  const year = fields['era'] === 'BC' || fields['era'] === 'B' ? 1 - Number(fields['year']) : Number(fields['year']);
  const wall = new Date(0);
  wall.setUTCFullYear(year, Number(fields['month']) - 1, Number(fields['day']));
  wall.setUTCHours(Number(fields['hour']), Number(fields['minute']), Number(fields['second']), 0);
  return wall.getTime() - second;
}

/** The wall time a clock in `timeZone` shows at `instant`. */
export function wallTimeAt(instant: number, timeZone: string): number {
  return instant + offsetAt(instant, timeZone);
}

/**
 * Every instant at which the clock in `timeZone` shows `wallTime`, ascending: one normally, none in
 * a spring-forward gap, two in a fall-back overlap. Assumes at most one offset change within a day
 * either side, which holds for every zone since zones adopted standard time.
 */
export function instantsAt(wallTime: number, timeZone: string): number[] {
  const offsets = new Set([offsetAt(wallTime - DAY_MS, timeZone), offsetAt(wallTime + DAY_MS, timeZone)]);
  return [...offsets]
    .map((offset) => wallTime - offset)
    .filter((instant) => wallTimeAt(instant, timeZone) === wallTime)
    .sort((a, b) => a - b);
}

/**
 * The offset change around a wall time that does not exist or exists twice: `at` is the first
 * instant on the new offset. For a gap that is the first instant after it (the clock reads the
 * gap's end); for an overlap, the start of the second pass.
 */
export function transitionAround(wallTime: number, timeZone: string): { at: number; before: number; after: number } {
  const before = offsetAt(wallTime - DAY_MS, timeZone);
  const after = offsetAt(wallTime + DAY_MS, timeZone);
  // The change lies between the instants the wall time maps to under either offset; offsets only
  // change on whole seconds, so bisect in seconds.
  let lo = Math.floor((wallTime - Math.max(before, after)) / 1000) - 1;
  let hi = Math.ceil((wallTime - Math.min(before, after)) / 1000) + 1;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid * 1000, timeZone) === after) hi = mid;
    else lo = mid;
  }
  return { at: hi * 1000, before, after };
}

export function floorToMinute(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

export function ceilToMinute(ms: number): number {
  return Math.ceil(ms / MINUTE_MS) * MINUTE_MS;
}
