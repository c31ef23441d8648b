import { nextCronOccurrence, parseCron } from './cron';

/**
 * The daylight-saving rule (README, "Daylight saving"):
 * - hour field not starting with `*` (a time of day): every listed wall time fires once — a
 *   skipped one at the first instant after the gap, a repeated one at its first occurrence;
 * - hour field starting with `*` (a rhythm): fires whenever the wall clock shows a matching
 *   time — both passes of a repeated hour, nothing for skipped times.
 *
 * New York 2026: 02:00 EST → 03:00 EDT on Mar 8 (07:00Z); 02:00 EDT → 01:00 EST on Nov 1 (06:00Z).
 * Berlin 2026: 02:00 CET → 03:00 CEST on Mar 29 (01:00Z); 03:00 CEST → 02:00 CET on Oct 25 (01:00Z).
 * Lord Howe 2026: 02:00 → 02:30 (+11) on Oct 4 (15:30Z Oct 3); 02:00 → 01:30 (+10:30) on Apr 5 (15:00Z Apr 4).
 */
function occurrences(expr: string, timeZone: string, after: string, count: number): string[] {
  const parsed = parseCron(expr);
  const out: string[] = [];
  let cursor = new Date(after);
  for (let i = 0; i < count; i++) {
    cursor = nextCronOccurrence(parsed, cursor, timeZone);
    out.push(cursor.toISOString().replace(':00.000Z', 'Z'));
  }
  return out;
}

describe('daylight saving: spring forward (skipped local times)', () => {
  it.each`
    case                                                | expr              | timeZone                 | after                     | expected
    ${'NY 02:30 fires at 03:00 EDT, then 02:30 again'}  | ${'30 2 * * *'}   | ${'America/New_York'}    | ${'2026-03-07T12:00:00Z'} | ${['2026-03-08T07:00Z', '2026-03-09T06:30Z', '2026-03-10T06:30Z']}
    ${'NY 02:00-02:45 collapse into one 03:00 firing'}  | ${'*/15 2 * * *'} | ${'America/New_York'}    | ${'2026-03-08T06:00:00Z'} | ${['2026-03-08T07:00Z', '2026-03-09T06:00Z', '2026-03-09T06:15Z']}
    ${'NY 02:00 and 03:00 collapse into one firing'}    | ${'0 2,3 * * *'}  | ${'America/New_York'}    | ${'2026-03-08T06:00:00Z'} | ${['2026-03-08T07:00Z', '2026-03-09T06:00Z', '2026-03-09T07:00Z']}
    ${'NY 02:30 and 03:30 stay two firings'}            | ${'30 2,3 * * *'} | ${'America/New_York'}    | ${'2026-03-08T06:00:00Z'} | ${['2026-03-08T07:00Z', '2026-03-08T07:30Z', '2026-03-09T06:30Z']}
    ${'NY 03:00 itself is an ordinary time'}            | ${'0 3 * * *'}    | ${'America/New_York'}    | ${'2026-03-07T12:00:00Z'} | ${['2026-03-08T07:00Z', '2026-03-09T07:00Z']}
    ${'NY 01:59 EST still exists'}                      | ${'59 1 * * *'}   | ${'America/New_York'}    | ${'2026-03-07T12:00:00Z'} | ${['2026-03-08T06:59Z', '2026-03-09T05:59Z']}
    ${'NY */15 * every 15 real minutes across the gap'} | ${'*/15 * * * *'} | ${'America/New_York'}    | ${'2026-03-08T06:20:00Z'} | ${['2026-03-08T06:30Z', '2026-03-08T06:45Z', '2026-03-08T07:00Z', '2026-03-08T07:15Z']}
    ${'NY hourly :30 follows the clock, no 03:00'}      | ${'30 * * * *'}   | ${'America/New_York'}    | ${'2026-03-08T05:20:00Z'} | ${['2026-03-08T05:30Z', '2026-03-08T06:30Z', '2026-03-08T07:30Z']}
    ${'NY after the collapsed firing'}                  | ${'30 2 * * *'}   | ${'America/New_York'}    | ${'2026-03-08T07:00:00Z'} | ${['2026-03-09T06:30Z']}
    ${'Berlin 02:30 fires at 03:00 CEST'}               | ${'30 2 * * *'}   | ${'Europe/Berlin'}       | ${'2026-03-28T12:00:00Z'} | ${['2026-03-29T01:00Z', '2026-03-30T00:30Z']}
    ${'Berlin Sunday 02:00 fires at 03:00 CEST'}        | ${'0 2 * * SUN'}  | ${'Europe/Berlin'}       | ${'2026-03-28T12:00:00Z'} | ${['2026-03-29T01:00Z', '2026-04-05T00:00Z']}
    ${'Berlin */20 * across the gap'}                   | ${'*/20 * * * *'} | ${'Europe/Berlin'}       | ${'2026-03-29T00:30:00Z'} | ${['2026-03-29T00:40Z', '2026-03-29T01:00Z', '2026-03-29T01:20Z']}
    ${'Lord Howe half-hour gap: 02:15 fires at 02:30'}  | ${'15 2 * * *'}   | ${'Australia/Lord_Howe'} | ${'2026-10-03T12:00:00Z'} | ${['2026-10-03T15:30Z', '2026-10-04T15:15Z']}
  `('$case', ({ expr, timeZone, after, expected }) => {
    expect(occurrences(expr, timeZone, after, expected.length)).toEqual(expected);
  });
});

describe('daylight saving: fall back (repeated local times)', () => {
  it.each`
    case                                                   | expr              | timeZone                 | after                     | expected
    ${'NY 01:30 fires once, at 01:30 EDT'}                 | ${'30 1 * * *'}   | ${'America/New_York'}    | ${'2026-10-31T12:00:00Z'} | ${['2026-11-01T05:30Z', '2026-11-02T06:30Z']}
    ${'NY 01:30 not again from inside the second pass'}    | ${'30 1 * * *'}   | ${'America/New_York'}    | ${'2026-11-01T06:10:00Z'} | ${['2026-11-02T06:30Z']}
    ${'NY 01:45 not again from late in the first pass'}    | ${'45 1 * * *'}   | ${'America/New_York'}    | ${'2026-11-01T05:50:00Z'} | ${['2026-11-02T06:45Z']}
    ${'NY fixed hour, minute steps: first pass only'}      | ${'*/15 1 * * *'} | ${'America/New_York'}    | ${'2026-11-01T05:20:00Z'} | ${['2026-11-01T05:30Z', '2026-11-01T05:45Z', '2026-11-02T06:00Z']}
    ${'NY 02:00 is after the repeated hour'}               | ${'0 2 * * *'}    | ${'America/New_York'}    | ${'2026-11-01T05:00:00Z'} | ${['2026-11-01T07:00Z', '2026-11-02T07:00Z']}
    ${'NY */15 * runs through both passes'}                | ${'*/15 * * * *'} | ${'America/New_York'}    | ${'2026-11-01T05:20:00Z'} | ${['2026-11-01T05:30Z', '2026-11-01T05:45Z', '2026-11-01T06:00Z', '2026-11-01T06:15Z', '2026-11-01T06:30Z', '2026-11-01T06:45Z', '2026-11-01T07:00Z']}
    ${'NY */20 * from late in the first pass'}             | ${'*/20 * * * *'} | ${'America/New_York'}    | ${'2026-11-01T05:50:00Z'} | ${['2026-11-01T06:00Z', '2026-11-01T06:20Z']}
    ${'NY hourly fires at 01:00 EDT and 01:00 EST'}        | ${'0 * * * *'}    | ${'America/New_York'}    | ${'2026-11-01T04:30:00Z'} | ${['2026-11-01T05:00Z', '2026-11-01T06:00Z', '2026-11-01T07:00Z']}
    ${'NY hourly from inside the second pass'}             | ${'0 * * * *'}    | ${'America/New_York'}    | ${'2026-11-01T06:10:00Z'} | ${['2026-11-01T07:00Z']}
    ${'Berlin 02:30 fires once, at 02:30 CEST'}            | ${'30 2 * * *'}   | ${'Europe/Berlin'}       | ${'2026-10-24T12:00:00Z'} | ${['2026-10-25T00:30Z', '2026-10-26T01:30Z']}
    ${'Berlin */30 * runs through both passes'}            | ${'*/30 * * * *'} | ${'Europe/Berlin'}       | ${'2026-10-25T00:10:00Z'} | ${['2026-10-25T00:30Z', '2026-10-25T01:00Z', '2026-10-25T01:30Z', '2026-10-25T02:00Z']}
    ${'Lord Howe half-hour overlap: 01:45 once'}           | ${'45 1 * * *'}   | ${'Australia/Lord_Howe'} | ${'2026-04-04T12:00:00Z'} | ${['2026-04-04T14:45Z', '2026-04-05T15:15Z']}
    ${'Lord Howe */15 * through both half-hour passes'}    | ${'*/15 * * * *'} | ${'Australia/Lord_Howe'} | ${'2026-04-04T14:40:00Z'} | ${['2026-04-04T14:45Z', '2026-04-04T15:00Z', '2026-04-04T15:15Z', '2026-04-04T15:30Z']}
  `('$case', ({ expr, timeZone, after, expected }) => {
    expect(occurrences(expr, timeZone, after, expected.length)).toEqual(expected);
  });
});
