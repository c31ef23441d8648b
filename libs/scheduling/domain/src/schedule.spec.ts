import { nextRunAt, normalizeSchedule, type NormalizedSchedule } from './schedule';

const now = new Date('2026-01-01T00:00:00.000Z');
const EXACTLY_ONE = { field: 'schedule', message: 'must have exactly one of cron, every_n_minutes or run_at' };
const BAD_N = { field: 'schedule.every_n_minutes', message: 'must be an integer from 1 to 1440' };
const BAD_TZ = { field: 'schedule.timezone', message: 'must be an IANA time zone name such as "Europe/Berlin"' };
const BAD_RUN_AT = { field: 'schedule.run_at', message: 'must be an ISO-8601 timestamp with a time zone offset, e.g. "2026-05-01T09:00:00Z"' };
const PAST = { field: 'schedule.run_at', message: 'must be in the future' };

describe('normalizeSchedule accepts', () => {
  it.each`
    kind                 | input                                                       | expected
    ${'recurring'}       | ${{ every_n_minutes: 1 }}                                   | ${{ every_n_minutes: 1 }}
    ${'recurring'}       | ${{ every_n_minutes: 1440 }}                                | ${{ every_n_minutes: 1440 }}
    ${'cron'}            | ${{ cron: ' 0  9 * *   MON-FRI ' }}                         | ${{ cron: '0 9 * * MON-FRI', timezone: 'UTC' }}
    ${'cron'}            | ${{ cron: '0 9 * * *', timezone: 'America/New_York' }}      | ${{ cron: '0 9 * * *', timezone: 'America/New_York' }}
    ${'cron'}            | ${{ cron: '@Daily', timezone: null }}                       | ${{ cron: '@daily', timezone: 'UTC' }}
    ${'cron'}            | ${{ cron: '30 2 * * *', timezone: 'Asia/Kolkata' }}         | ${{ cron: '30 2 * * *', timezone: 'Asia/Kolkata' }}
    ${'scheduled'}       | ${{ run_at: '2026-06-01T11:00:00+02:00' }}                  | ${{ run_at: '2026-06-01T09:00:00.000Z' }}
    ${'scheduled'}       | ${{ run_at: '2026-01-01T00:00:00.001Z' }}                   | ${{ run_at: '2026-01-01T00:00:00.001Z' }}
    ${'scheduled'}       | ${{ run_at: '2026-06-01T09:00:00.123456789Z' }}             | ${{ run_at: '2026-06-01T09:00:00.123Z' }}
    ${'scheduled'}       | ${{ run_at: '2026-06-01t09:00z' }}                          | ${{ run_at: '2026-06-01T09:00:00.000Z' }}
    ${'scheduled'}       | ${{ run_at: '2025-12-31T23:30:00-05:00' }}                  | ${{ run_at: '2026-01-01T04:30:00.000Z' }}
    ${'scheduled'}       | ${{ run_at: '2028-02-29T00:00:00Z' }}                       | ${{ run_at: '2028-02-29T00:00:00.000Z' }}
    ${'workflow'}        | ${{ cron: '*/5 * * * *' }}                                  | ${{ cron: '*/5 * * * *', timezone: 'UTC' }}
    ${'workflow'}        | ${{ cron: '0 8 * * *', timezone: 'Europe/Berlin' }}         | ${{ cron: '0 8 * * *', timezone: 'Europe/Berlin' }}
    ${'workflow'}        | ${{ every_n_minutes: 30 }}                                  | ${{ every_n_minutes: 30 }}
    ${'workflow'}        | ${{ run_at: '2026-02-01T00:00:00Z' }}                       | ${{ run_at: '2026-02-01T00:00:00.000Z' }}
    ${'workflow'}        | ${{ every_n_minutes: 30, cron: null, run_at: null }}        | ${{ every_n_minutes: 30 }}
    ${'one_time'}        | ${undefined}                                                | ${null}
    ${'one_time'}        | ${null}                                                     | ${null}
    ${'webhook_trigger'} | ${undefined}                                                | ${null}
    ${'webhook_trigger'} | ${null}                                                     | ${null}
  `('$kind $input', ({ kind, input, expected }) => {
    expect(normalizeSchedule(kind, input, now)).toEqual({ value: expected, problems: [] });
  });
});

describe('normalizeSchedule rejects, naming the field', () => {
  it.each`
    kind                 | input                                                              | problems
    ${'recurring'}       | ${undefined}                                                       | ${[{ field: 'schedule', message: 'is required' }]}
    ${'cron'}            | ${null}                                                            | ${[{ field: 'schedule', message: 'is required' }]}
    ${'scheduled'}       | ${'2026-06-01T00:00:00Z'}                                          | ${[{ field: 'schedule', message: 'must be an object' }]}
    ${'workflow'}        | ${[{ every_n_minutes: 5 }]}                                        | ${[{ field: 'schedule', message: 'must be an object' }]}
    ${'recurring'}       | ${{}}                                                              | ${[{ field: 'schedule.every_n_minutes', message: 'is required' }]}
    ${'recurring'}       | ${{ every_n_minutes: null }}                                       | ${[{ field: 'schedule.every_n_minutes', message: 'is required' }]}
    ${'recurring'}       | ${{ every_n_minutes: 0 }}                                          | ${[BAD_N]}
    ${'recurring'}       | ${{ every_n_minutes: 1441 }}                                       | ${[BAD_N]}
    ${'recurring'}       | ${{ every_n_minutes: -5 }}                                         | ${[BAD_N]}
    ${'recurring'}       | ${{ every_n_minutes: 1.5 }}                                        | ${[BAD_N]}
    ${'recurring'}       | ${{ every_n_minutes: '5' }}                                        | ${[BAD_N]}
    ${'recurring'}       | ${{ every_n_minutes: Number.NaN }}                                 | ${[BAD_N]}
    ${'recurring'}       | ${{ every_n_minutes: 5, cron: '* * * * *' }}                       | ${[{ field: 'schedule.cron', message: 'is not allowed for recurring jobs' }]}
    ${'recurring'}       | ${{ every_n_minutes: 5, every: 5 }}                                | ${[{ field: 'schedule.every', message: 'is not a schedule field' }]}
    ${'recurring'}       | ${{ every_n_minutes: 0, foo: null, timezone: 'UTC' }}              | ${[{ field: 'schedule.foo', message: 'is not a schedule field' }, { field: 'schedule.timezone', message: 'is not allowed for recurring jobs' }, BAD_N]}
    ${'cron'}            | ${{}}                                                              | ${[{ field: 'schedule.cron', message: 'is required' }]}
    ${'cron'}            | ${{ timezone: 'UTC' }}                                             | ${[{ field: 'schedule.cron', message: 'is required' }]}
    ${'cron'}            | ${{ cron: 5 }}                                                     | ${[{ field: 'schedule.cron', message: 'must be a string' }]}
    ${'cron'}            | ${{ cron: '61 * * * *' }}                                          | ${[{ field: 'schedule.cron', message: 'minute field "61" is out of range 0-59' }]}
    ${'cron'}            | ${{ cron: '* * * *' }}                                             | ${[{ field: 'schedule.cron', message: 'expected 5 fields (minute hour day-of-month month day-of-week), got 4' }]}
    ${'cron'}            | ${{ cron: '*/0 * * * *' }}                                         | ${[{ field: 'schedule.cron', message: 'minute field "*/0" step 0 is out of range 1-60' }]}
    ${'cron'}            | ${{ cron: '0 0 30 2 *' }}                                          | ${[{ field: 'schedule.cron', message: 'day-of-month field "30" never matches month field "2"' }]}
    ${'cron'}            | ${{ cron: '* * * * *', timezone: 'Mars/Olympus_Mons' }}            | ${[BAD_TZ]}
    ${'cron'}            | ${{ cron: '* * * * *', timezone: '+05:30' }}                       | ${[BAD_TZ]}
    ${'cron'}            | ${{ cron: '* * * * *', timezone: 'Europe/Berlin ' }}               | ${[BAD_TZ]}
    ${'cron'}            | ${{ cron: '* * * * *', timezone: '' }}                             | ${[BAD_TZ]}
    ${'cron'}            | ${{ cron: '* * * * *', timezone: 1 }}                              | ${[BAD_TZ]}
    ${'cron'}            | ${{ cron: 'every day', timezone: 'Nowhere' }}                      | ${[{ field: 'schedule.cron', message: 'expected 5 fields (minute hour day-of-month month day-of-week), got 2' }, BAD_TZ]}
    ${'cron'}            | ${{ cron: '* * * * *', run_at: '2026-06-01T00:00:00Z' }}           | ${[{ field: 'schedule.run_at', message: 'is not allowed for cron jobs' }]}
    ${'scheduled'}       | ${{}}                                                              | ${[{ field: 'schedule.run_at', message: 'is required' }]}
    ${'scheduled'}       | ${{ run_at: '2025-12-31T23:59:59Z' }}                              | ${[PAST]}
    ${'scheduled'}       | ${{ run_at: '2026-01-01T00:00:00Z' }}                              | ${[PAST]}
    ${'scheduled'}       | ${{ run_at: '2026-01-01T01:00:00+01:00' }}                         | ${[PAST]}
    ${'scheduled'}       | ${{ run_at: '2026-06-01T09:00:00' }}                               | ${[BAD_RUN_AT]}
    ${'scheduled'}       | ${{ run_at: '2026-02-30T00:00:00Z' }}                              | ${[BAD_RUN_AT]}
    ${'scheduled'}       | ${{ run_at: '2027-02-29T00:00:00Z' }}                              | ${[BAD_RUN_AT]}
    ${'scheduled'}       | ${{ run_at: '2026-06-01T24:00:00Z' }}                              | ${[BAD_RUN_AT]}
    ${'scheduled'}       | ${{ run_at: '2026-06-01T09:60:00Z' }}                              | ${[BAD_RUN_AT]}
    ${'scheduled'}       | ${{ run_at: '2026-13-01T09:00:00Z' }}                              | ${[BAD_RUN_AT]}
    ${'scheduled'}       | ${{ run_at: '2026-06-01' }}                                        | ${[BAD_RUN_AT]}
    ${'scheduled'}       | ${{ run_at: 'tomorrow' }}                                          | ${[BAD_RUN_AT]}
    ${'scheduled'}       | ${{ run_at: 1780304400000 }}                                       | ${[BAD_RUN_AT]}
    ${'scheduled'}       | ${{ run_at: '2026-06-01T09:00:00Z', every_n_minutes: 5 }}          | ${[{ field: 'schedule.every_n_minutes', message: 'is not allowed for scheduled jobs' }]}
    ${'one_time'}        | ${{ every_n_minutes: 5 }}                                          | ${[{ field: 'schedule', message: 'is not allowed for one_time jobs' }]}
    ${'one_time'}        | ${{}}                                                              | ${[{ field: 'schedule', message: 'is not allowed for one_time jobs' }]}
    ${'webhook_trigger'} | ${{ cron: '* * * * *' }}                                           | ${[{ field: 'schedule', message: 'is not allowed for webhook_trigger jobs' }]}
    ${'workflow'}        | ${undefined}                                                       | ${[{ field: 'schedule', message: 'is required' }]}
    ${'workflow'}        | ${{}}                                                              | ${[EXACTLY_ONE]}
    ${'workflow'}        | ${{ cron: null }}                                                  | ${[EXACTLY_ONE]}
    ${'workflow'}        | ${{ cron: '* * * * *', every_n_minutes: 5 }}                       | ${[EXACTLY_ONE]}
    ${'workflow'}        | ${{ cron: '61 * * * *', every_n_minutes: 0, run_at: 'soon' }}      | ${[EXACTLY_ONE, BAD_N, { field: 'schedule.cron', message: 'minute field "61" is out of range 0-59' }, BAD_RUN_AT]}
    ${'workflow'}        | ${{ every_n_minutes: 5, timezone: 'UTC' }}                         | ${[{ field: 'schedule.timezone', message: 'is only allowed with cron' }]}
    ${'workflow'}        | ${{ timezone: 'UTC' }}                                             | ${[EXACTLY_ONE, { field: 'schedule.timezone', message: 'is only allowed with cron' }]}
    ${'workflow'}        | ${{ cron: '* * * * *', timezone: 'Berlin' }}                       | ${[BAD_TZ]}
    ${'workflow'}        | ${{ run_at: '2025-06-01T00:00:00Z' }}                              | ${[PAST]}
    ${'workflow'}        | ${{ every_n_minutes: 5, steps: [] }}                               | ${[{ field: 'schedule.steps', message: 'is not a schedule field' }]}
    ${'nightly'}         | ${{ every_n_minutes: 5 }}                                          | ${[{ field: 'kind', message: 'is not a known job kind' }]}
  `('$kind $input', ({ kind, input, problems }) => {
    expect(normalizeSchedule(kind, input, now)).toEqual({ value: null, problems });
  });
});

describe('nextRunAt', () => {
  const every = (n: number): NormalizedSchedule => ({ every_n_minutes: n });
  it.each`
    case                                          | schedule                                                    | anchor                        | after                         | expected
    ${'every 15: first run one period after creation'} | ${every(15)}                                           | ${'2026-01-01T10:07:00.000Z'} | ${'2026-01-01T10:07:00.000Z'} | ${'2026-01-01T10:22:00.000Z'}
    ${'every 15: never at the anchor itself'}     | ${every(15)}                                                | ${'2026-01-01T10:07:00.000Z'} | ${'2026-01-01T10:00:00.000Z'} | ${'2026-01-01T10:22:00.000Z'}
    ${'every 15: a millisecond before a slot'}    | ${every(15)}                                                | ${'2026-01-01T10:07:00.000Z'} | ${'2026-01-01T10:21:59.999Z'} | ${'2026-01-01T10:22:00.000Z'}
    ${'every 15: exactly on a slot'}              | ${every(15)}                                                | ${'2026-01-01T10:07:00.000Z'} | ${'2026-01-01T10:22:00.000Z'} | ${'2026-01-01T10:37:00.000Z'}
    ${'every 7: counted from creation, not the hour'} | ${every(7)}                                             | ${'2026-01-01T00:03:00.000Z'} | ${'2026-01-01T01:00:00.000Z'} | ${'2026-01-01T01:06:00.000Z'}
    ${'every 7: keeps the anchor seconds'}        | ${every(7)}                                                 | ${'2026-01-01T00:03:27.500Z'} | ${'2026-01-01T00:03:27.500Z'} | ${'2026-01-01T00:10:27.500Z'}
    ${'every 60: resume months later, no back-fill'} | ${every(60)}                                             | ${'2026-01-01T00:20:00.000Z'} | ${'2026-03-05T13:30:00.000Z'} | ${'2026-03-05T14:20:00.000Z'}
    ${'every 1440: real days through DST'}        | ${every(1440)}                                              | ${'2026-03-07T12:00:00.000Z'} | ${'2026-03-08T12:00:00.000Z'} | ${'2026-03-09T12:00:00.000Z'}
    ${'cron UTC'}                                 | ${{ cron: '0 9 * * *', timezone: 'UTC' }}                   | ${'2025-01-01T00:00:00.000Z'} | ${'2026-01-01T08:00:00.000Z'} | ${'2026-01-01T09:00:00.000Z'}
    ${'cron Berlin: 09:00 CET is 08:00Z'}          | ${{ cron: '0 9 * * *', timezone: 'Europe/Berlin' }}         | ${'2025-01-01T00:00:00.000Z'} | ${'2026-01-01T07:59:00.000Z'} | ${'2026-01-01T08:00:00.000Z'}
    ${'cron Berlin: strictly after'}              | ${{ cron: '0 9 * * *', timezone: 'Europe/Berlin' }}         | ${'2025-01-01T00:00:00.000Z'} | ${'2026-01-01T08:00:00.000Z'} | ${'2026-01-02T08:00:00.000Z'}
    ${'cron resume: next from now, no back-fill'} | ${{ cron: '*/5 * * * *', timezone: 'UTC' }}                 | ${'2025-01-01T00:00:00.000Z'} | ${'2026-02-01T10:02:00.000Z'} | ${'2026-02-01T10:05:00.000Z'}
    ${'run_at ahead'}                             | ${{ run_at: '2026-06-01T09:00:00.000Z' }}                   | ${'2026-01-01T00:00:00.000Z'} | ${'2026-05-31T00:00:00.000Z'} | ${'2026-06-01T09:00:00.000Z'}
    ${'run_at reached'}                           | ${{ run_at: '2026-06-01T09:00:00.000Z' }}                   | ${'2026-01-01T00:00:00.000Z'} | ${'2026-06-01T09:00:00.000Z'} | ${null}
    ${'run_at passed'}                            | ${{ run_at: '2026-06-01T09:00:00.000Z' }}                   | ${'2026-01-01T00:00:00.000Z'} | ${'2026-07-01T00:00:00.000Z'} | ${null}
  `('$case', ({ schedule, anchor, after, expected }) => {
    const result = nextRunAt(schedule, { anchor: new Date(anchor), after: new Date(after) });
    expect(result === null ? null : result.toISOString()).toBe(expected);
  });
});
