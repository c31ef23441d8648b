import { ceilToMinute, floorToMinute, instantsAt, offsetAt, transitionAround, wallTimeAt } from './time-zone';

/**
 * Five-field cron expressions with Vixie cron's semantics, and their next occurrence in an IANA
 * time zone. The grammar and the daylight-saving rule are written down in the lib's README.
 */

/** A parsed expression. Value lists are sorted and de-duplicated; day-of-week 7 is folded into 0. */
export interface CronExpression {
  /** The expression as accepted, fields separated by single spaces (a macro stays a macro). */
  readonly source: string;
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly number[];
  readonly months: readonly number[];
  /** 0 = Sunday … 6 = Saturday. */
  readonly daysOfWeek: readonly number[];
  /**
   * Whether the day-of-month / day-of-week field starts with `*` (a bare star, or a star with a
   * step). Cron ORs the two day fields only when neither does.
   */
  readonly dayOfMonthStar: boolean;
  readonly dayOfWeekStar: boolean;
  /**
   * Whether the hour field starts with `*`. Such an expression is a rhythm of the clock and
   * follows the wall clock through daylight-saving changes; any other is a time of day and fires
   * once per listed local time (see README, "Daylight saving").
   */
  readonly hourStar: boolean;
}

export type CronField = 'minute' | 'hour' | 'day-of-month' | 'month' | 'day-of-week';

/** A rejected expression. `message` names the offending field and text. */
export class CronSyntaxError extends Error {
  override readonly name = 'CronSyntaxError';
  constructor(
    message: string,
    /** The field at fault, or null when the expression as a whole is (field count, macro). */
    readonly field: CronField | null,
  ) {
    super(message);
  }
}

interface FieldSpec {
  readonly name: CronField;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Index of `names[0]`. */
  readonly namesFrom?: number;
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'], namesFrom: 1 },
  { name: 'day-of-week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'], namesFrom: 0 },
];

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** The longest each month can be; February counts its leap day. */
const MONTH_MAX_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `*`, `v` or `v-v`, optionally `/step`; `v` is digits or a name. */
const ITEM = /^(?:(\*)|([0-9]+|[A-Za-z]+)(?:-([0-9]+|[A-Za-z]+))?)(?:\/([0-9]+))?$/;

/** Parses a five-field expression or a macro. Throws `CronSyntaxError` naming the first bad field. */
export function parseCron(expr: string): CronExpression {
  if (typeof expr !== 'string') throw new CronSyntaxError('expression must be a string', null);
  const trimmed = expr.trim();
  let fields: string[];
  let source: string;
  if (trimmed.startsWith('@')) {
    const macro = trimmed.toLowerCase();
    const expansion = MACROS[macro];
    if (expansion === undefined) {
      throw new CronSyntaxError(`"${trimmed}" is not a supported macro (${Object.keys(MACROS).join(', ')})`, null);
    }
    fields = expansion.split(' ');
    source = macro;
  } else {
    fields = trimmed === '' ? [] : trimmed.split(/\s+/);
    if (fields.length !== 5) {
      throw new CronSyntaxError(`expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`, null);
    }
    source = fields.join(' ');
  }

  const [minutes, hours, daysOfMonth, months, rawDaysOfWeek] = FIELDS.map((spec, i) => parseField(fields[i]!, spec));
  const daysOfWeek = [...new Set(rawDaysOfWeek!.map((d) => d % 7))].sort((a, b) => a - b);
  const expression: CronExpression = {
    source,
    minutes: minutes!,
    hours: hours!,
    daysOfMonth: daysOfMonth!,
    months: months!,
    daysOfWeek,
    dayOfMonthStar: fields[2]!.startsWith('*'),
    dayOfWeekStar: fields[4]!.startsWith('*'),
    hourStar: fields[1]!.startsWith('*'),
  };
  // With the day-of-week field unrestricted only the day-of-month decides, and it may name days no
  // selected month has (Feb 30). Rejecting that here is what lets the search below always end.
  if (!expression.dayOfMonthStar && expression.dayOfWeekStar) {
    const possible = expression.months.some((m) => expression.daysOfMonth[0]! <= MONTH_MAX_DAYS[m - 1]!);
    if (!possible) {
      throw new CronSyntaxError(`day-of-month field "${fields[2]}" never matches month field "${fields[3]}"`, 'day-of-month');
    }
  }
  return expression;
}

function parseField(text: string, spec: FieldSpec): number[] {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const match = ITEM.exec(item);
    if (match === null) {
      throw new CronSyntaxError(`${spec.name} field "${item === '' ? text : item}" is not valid`, spec.name);
    }
    const [, star, startText, endText, stepText] = match;
    let start: number;
    let end: number;
    if (star !== undefined) {
      start = spec.min;
      end = spec.max;
    } else {
      start = valueOf(startText!, spec);
      // `a/n` runs from a to the field's maximum, as in cronie.
      end = endText !== undefined ? valueOf(endText, spec) : stepText !== undefined ? spec.max : start;
      if (start > end) throw new CronSyntaxError(`${spec.name} field "${item}" is a reversed range`, spec.name);
    }
    let step = 1;
    if (stepText !== undefined) {
      step = Number(stepText);
      const span = spec.max - spec.min + 1;
      if (step < 1 || step > span) {
        throw new CronSyntaxError(`${spec.name} field "${item}" step ${stepText} is out of range 1-${span}`, spec.name);
      }
    }
    for (let v = start; v <= end; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

function valueOf(text: string, spec: FieldSpec): number {
  if (/^[0-9]+$/.test(text)) {
    const value = Number(text);
    if (value < spec.min || value > spec.max) {
      throw new CronSyntaxError(`${spec.name} field "${text}" is out of range ${spec.min}-${spec.max}`, spec.name);
    }
    return value;
  }
  const index = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (index < 0) {
    const expected = spec.names ? `a number ${spec.min}-${spec.max} or a name ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : `a number ${spec.min}-${spec.max}`;
    throw new CronSyntaxError(`${spec.name} field "${text}" is not ${expected}`, spec.name);
  }
  return index + spec.namesFrom!;
}

/** Far beyond any real gap: the Gregorian calendar repeats every 400 years. */
const SEARCH_YEARS = 400;
/** Each DST step of the search crosses at least one offset change; real schedules need one or two. */
const MAX_DST_STEPS = 16;

/**
 * The first instant strictly after `after` at which `expr` fires in `timeZone` (IANA, e.g.
 * `Europe/Berlin`; validate it with `isValidTimezone` first).
 *
 * - Hour field not starting with `*` (a time of day): each matching wall time `L` fires once, at
 *   the first instant the clock reads `L` or later — at `L` itself normally, at its first (earlier)
 *   occurrence when it occurs twice, and at the end of the gap when it is skipped. Slots that land
 *   on the same instant fire once.
 * - Hour field starting with `*` (a rhythm): fires at every instant at which the clock reads a
 *   matching wall time — twice for times in a repeated hour, never for times the clock skips.
 */
export function nextCronOccurrence(expr: CronExpression, after: Date, timeZone: string): Date {
  const afterMs = after.getTime();
  if (!Number.isFinite(afterMs)) throw new RangeError('after must be a valid date');
  return new Date(expr.hourStar ? nextOnTheClock(expr, afterMs, timeZone) : nextTimeOfDay(expr, afterMs, timeZone));
}

function nextTimeOfDay(expr: CronExpression, after: number, timeZone: string): number {
  // A slot fires at the first instant the clock reads it or later, so the next firing belongs to
  // the first slot above the highest reading so far. Inside the second pass of a repeated hour
  // that is the end of the first pass, not the current reading.
  const reading = wallTimeAt(after, timeZone);
  const twice = instantsAt(floorToMinute(reading), timeZone);
  let from = floorToMinute(reading) + 60_000;
  if (twice.length === 2 && after >= twice[1]!) {
    const change = transitionAround(floorToMinute(reading), timeZone);
    from = Math.max(from, ceilToMinute(change.at + change.before));
  }
  const slot = nextWallTime(expr, from);
  const instants = instantsAt(slot, timeZone);
  return instants.length > 0 ? instants[0]! : transitionAround(slot, timeZone).at;
}

function nextOnTheClock(expr: CronExpression, after: number, timeZone: string): number {
  let cursor = after;
  let inclusive = false;
  for (let step = 0; step < MAX_DST_STEPS; step++) {
    const reading = wallTimeAt(cursor, timeZone);
    const slot = nextWallTime(expr, inclusive ? ceilToMinute(reading) : floorToMinute(reading) + 60_000);
    // In the first pass of a repeated hour the clock will soon go back: a match later in this pass
    // comes first, otherwise carry on from the start of the second pass.
    const now = instantsAt(floorToMinute(reading), timeZone);
    if (now.length === 2 && cursor < now[1]!) {
      const change = transitionAround(floorToMinute(reading), timeZone);
      if (slot < change.at + change.before) return slot - offsetAt(cursor, timeZone);
      cursor = change.at;
      inclusive = true;
      continue;
    }
    const instants = instantsAt(slot, timeZone).filter((i) => (inclusive ? i >= cursor : i > cursor));
    if (instants.length > 0) return instants[0]!;
    // The clock skips this wall time: carry on from the first instant after the gap.
    cursor = transitionAround(slot, timeZone).at;
    inclusive = true;
  }
  throw new Error(`no occurrence of "${expr.source}" found in ${timeZone}: too many offset changes`);
}

/**
 * The first wall time at or after `from` (minute-aligned) whose calendar fields match: skips whole
 * months, days and hours that cannot match instead of scanning minutes.
 */
export function nextWallTime(expr: CronExpression, from: number): number {
  const start = new Date(from);
  let year = start.getUTCFullYear();
  let month = start.getUTCMonth() + 1;
  let day = start.getUTCDate();
  let hour = start.getUTCHours();
  let minute = start.getUTCMinutes();
  const lastYear = year + SEARCH_YEARS;

  while (year <= lastYear) {
    const m = firstAtLeast(expr.months, month);
    if (m === undefined) {
      [year, month, day, hour, minute] = [year + 1, 1, 1, 0, 0];
      continue;
    }
    if (m !== month) [month, day, hour, minute] = [m, 1, 0, 0];
    if (day > daysIn(year, month)) {
      [month, day, hour, minute] = [month + 1, 1, 0, 0];
      if (month > 12) [year, month] = [year + 1, 1];
      continue;
    }
    if (!dayMatches(expr, year, month, day)) {
      [day, hour, minute] = [day + 1, 0, 0];
      continue;
    }
    const h = firstAtLeast(expr.hours, hour);
    if (h === undefined) {
      [day, hour, minute] = [day + 1, 0, 0];
      continue;
    }
    if (h !== hour) [hour, minute] = [h, 0];
    const min = firstAtLeast(expr.minutes, minute);
    if (min === undefined) {
      [hour, minute] = [hour + 1, 0];
      if (hour > 23) [day, hour] = [day + 1, 0];
      continue;
    }
    return Date.UTC(year, month - 1, day, hour, min);
  }
  // Unreachable for parsed expressions: parseCron rejects day-of-month lists no month can hold.
  throw new Error(`no occurrence of "${expr.source}" within ${SEARCH_YEARS} years`);
}

function dayMatches(expr: CronExpression, year: number, month: number, day: number): boolean {
  const dom = expr.daysOfMonth.includes(day);
  const dow = expr.daysOfWeek.includes(new Date(Date.UTC(year, month - 1, day)).getUTCDay());
  // Vixie cron: when both day fields are restricted, either may match.
  return !expr.dayOfMonthStar && !expr.dayOfWeekStar ? dom || dow : dom && dow;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function firstAtLeast(sorted: readonly number[], value: number): number | undefined {
  for (const v of sorted) if (v >= value) return v;
  return undefined;
}
