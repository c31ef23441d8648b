import { instantsAt, isValidTimezone } from './time-zone';

describe('isValidTimezone', () => {
  it.each`
    timeZone                  | valid
    ${'UTC'}                  | ${true}
    ${'Etc/UTC'}              | ${true}
    ${'America/New_York'}     | ${true}
    ${'Europe/Berlin'}        | ${true}
    ${'Asia/Kolkata'}         | ${true}
    ${'Asia/Calcutta'}        | ${true}
    ${'America/Argentina/Buenos_Aires'} | ${true}
    ${'US/Eastern'}           | ${true}
    ${'Etc/GMT+5'}            | ${true}
    ${'europe/berlin'}        | ${true}
    ${'Europe/Berlín'}        | ${false}
    ${'Mars/Olympus_Mons'}    | ${false}
    ${'Berlin'}               | ${false}
    ${'+05:30'}               | ${false}
    ${'-0500'}                | ${false}
    ${'Z'}                    | ${false}
    ${''}                     | ${false}
    ${' UTC'}                 | ${false}
    ${'UTC '}                 | ${false}
  `('"$timeZone" -> $valid', ({ timeZone, valid }) => {
    expect(isValidTimezone(timeZone)).toBe(valid);
  });
});

describe('instantsAt (the instants a wall time maps to)', () => {
  it.each`
    case                          | wall                  | timeZone              | expected
    ${'ordinary'}                 | ${'2026-06-01T09:00'} | ${'Europe/Berlin'}    | ${['2026-06-01T07:00:00.000Z']}
    ${'NY spring gap'}            | ${'2026-03-08T02:30'} | ${'America/New_York'} | ${[]}
    ${'NY fall-back overlap'}     | ${'2026-11-01T01:30'} | ${'America/New_York'} | ${['2026-11-01T05:30:00.000Z', '2026-11-01T06:30:00.000Z']}
    ${'Berlin spring gap'}        | ${'2026-03-29T02:30'} | ${'Europe/Berlin'}    | ${[]}
    ${'Berlin fall-back overlap'} | ${'2026-10-25T02:30'} | ${'Europe/Berlin'}    | ${['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']}
    ${'half-hour zone'}           | ${'2026-01-01T00:00'} | ${'Asia/Kolkata'}     | ${['2025-12-31T18:30:00.000Z']}
  `('$case: $wall in $timeZone', ({ wall, timeZone, expected }) => {
    expect(instantsAt(Date.parse(`${wall}:00Z`), timeZone).map((i) => new Date(i).toISOString())).toEqual(expected);
  });
});
