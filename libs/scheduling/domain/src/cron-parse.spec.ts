import { CronSyntaxError, parseCron } from './cron';

describe('parseCron accepts', () => {
  it.each`
    expr                        | expected
    ${'* * * * *'}              | ${{ source: '* * * * *', minutes: range(0, 59), hours: range(0, 23), daysOfMonth: range(1, 31), months: range(1, 12), daysOfWeek: range(0, 6) }}
    ${'  */15   *  * * *  '}    | ${{ source: '*/15 * * * *', minutes: [0, 15, 30, 45] }}
    ${'0\t9 * * *'}            | ${{ source: '0 9 * * *', minutes: [0], hours: [9] }}
    ${'5,1,5,3 * * * *'}        | ${{ minutes: [1, 3, 5] }}
    ${'10-50/20 * * * *'}       | ${{ minutes: [10, 30, 50] }}
    ${'5/20 * * * *'}           | ${{ minutes: [5, 25, 45] }}
    ${'*/60 * * * *'}           | ${{ minutes: [0] }}
    ${'07 08 09 10 *'}          | ${{ minutes: [7], hours: [8], daysOfMonth: [9], months: [10] }}
    ${'0 9-17/4 * * *'}         | ${{ hours: [9, 13, 17] }}
    ${'0 0 */10 * *'}           | ${{ daysOfMonth: [1, 11, 21, 31] }}
    ${'0 0 1 jan,Jul,DEC *'}    | ${{ months: [1, 7, 12] }}
    ${'0 0 1 FEB-APR *'}        | ${{ months: [2, 3, 4] }}
    ${'0 0 1 */5 *'}            | ${{ months: [1, 6, 11] }}
    ${'0 0 * * 7'}              | ${{ daysOfWeek: [0] }}
    ${'0 0 * * 0,7'}            | ${{ daysOfWeek: [0] }}
    ${'0 0 * * 5-7'}            | ${{ daysOfWeek: [0, 5, 6] }}
    ${'0 0 * * sun'}            | ${{ daysOfWeek: [0] }}
    ${'0 0 * * MON-FRI'}        | ${{ daysOfWeek: [1, 2, 3, 4, 5] }}
    ${'0 0 * * */2'}            | ${{ daysOfWeek: [0, 2, 4, 6] }}
    ${'0 0 * * 1/2'}            | ${{ daysOfWeek: [0, 1, 3, 5] }}
    ${'0 0 30 2 1'}             | ${{ daysOfMonth: [30], months: [2], daysOfWeek: [1] }}
    ${'0 0 29 2 *'}             | ${{ daysOfMonth: [29], months: [2] }}
    ${'@yearly'}                | ${{ source: '@yearly', minutes: [0], hours: [0], daysOfMonth: [1], months: [1], daysOfWeek: range(0, 6) }}
    ${'@annually'}              | ${{ source: '@annually', daysOfMonth: [1], months: [1] }}
    ${'@monthly'}               | ${{ source: '@monthly', daysOfMonth: [1], months: range(1, 12) }}
    ${'@weekly'}                | ${{ source: '@weekly', daysOfWeek: [0], dayOfWeekStar: false }}
    ${' @Daily '}               | ${{ source: '@daily', minutes: [0], hours: [0] }}
    ${'@midnight'}              | ${{ source: '@midnight', minutes: [0], hours: [0] }}
    ${'@hourly'}                | ${{ source: '@hourly', minutes: [0], hours: range(0, 23), hourStar: true }}
  `('"$expr"', ({ expr, expected }) => {
    expect(parseCron(expr)).toMatchObject(expected);
  });

  it.each`
    expr                 | dayOfMonthStar | dayOfWeekStar | hourStar
    ${'* * * * *'}       | ${true}        | ${true}       | ${true}
    ${'0 */2 */2 * 1'}   | ${true}        | ${false}      | ${true}
    ${'0 9 1-31 * *'}    | ${false}       | ${true}       | ${false}
    ${'0 0-23 13 * FRI'} | ${false}       | ${false}      | ${false}
    ${'@daily'}          | ${true}        | ${true}       | ${false}
  `('"$expr" marks the fields that start with *', ({ expr, dayOfMonthStar, dayOfWeekStar, hourStar }) => {
    expect(parseCron(expr)).toMatchObject({ dayOfMonthStar, dayOfWeekStar, hourStar });
  });
});

describe('parseCron rejects', () => {
  it.each`
    expr                     | field             | message
    ${''}                    | ${null}           | ${'expected 5 fields (minute hour day-of-month month day-of-week), got 0'}
    ${'   '}                 | ${null}           | ${'expected 5 fields (minute hour day-of-month month day-of-week), got 0'}
    ${'* * * *'}             | ${null}           | ${'expected 5 fields (minute hour day-of-month month day-of-week), got 4'}
    ${'0 * * * * *'}         | ${null}           | ${'expected 5 fields (minute hour day-of-month month day-of-week), got 6'}
    ${'@reboot'}             | ${null}           | ${'"@reboot" is not a supported macro (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)'}
    ${'@every 5m'}           | ${null}           | ${'"@every 5m" is not a supported macro (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)'}
    ${'61 * * * *'}          | ${'minute'}       | ${'minute field "61" is out of range 0-59'}
    ${'0-60 * * * *'}        | ${'minute'}       | ${'minute field "60" is out of range 0-59'}
    ${'* 24 * * *'}          | ${'hour'}         | ${'hour field "24" is out of range 0-23'}
    ${'* * 0 * *'}           | ${'day-of-month'} | ${'day-of-month field "0" is out of range 1-31'}
    ${'* * 32 * *'}          | ${'day-of-month'} | ${'day-of-month field "32" is out of range 1-31'}
    ${'* * * 0 *'}           | ${'month'}        | ${'month field "0" is out of range 1-12'}
    ${'* * * 13 *'}          | ${'month'}        | ${'month field "13" is out of range 1-12'}
    ${'* * * * 8'}           | ${'day-of-week'}  | ${'day-of-week field "8" is out of range 0-7'}
    ${'99999999999999999999 * * * *'} | ${'minute'} | ${'minute field "99999999999999999999" is out of range 0-59'}
    ${'*/0 * * * *'}         | ${'minute'}       | ${'minute field "*/0" step 0 is out of range 1-60'}
    ${'*/61 * * * *'}        | ${'minute'}       | ${'minute field "*/61" step 61 is out of range 1-60'}
    ${'0 1-5/0 * * *'}       | ${'hour'}         | ${'hour field "1-5/0" step 0 is out of range 1-24'}
    ${'5-2 * * * *'}         | ${'minute'}       | ${'minute field "5-2" is a reversed range'}
    ${'0 0 1 DEC-JAN *'}     | ${'month'}        | ${'month field "DEC-JAN" is a reversed range'}
    ${'0 0 * * FRI-MON'}     | ${'day-of-week'}  | ${'day-of-week field "FRI-MON" is a reversed range'}
    ${'a * * * *'}           | ${'minute'}       | ${'minute field "a" is not a number 0-59'}
    ${'* MON * * *'}         | ${'hour'}         | ${'hour field "MON" is not a number 0-23'}
    ${'* * L * *'}           | ${'day-of-month'} | ${'day-of-month field "L" is not a number 1-31'}
    ${'* * * FOO *'}         | ${'month'}        | ${'month field "FOO" is not a number 1-12 or a name JAN-DEC'}
    ${'* * * * MONDAY'}      | ${'day-of-week'}  | ${'day-of-week field "MONDAY" is not a number 0-7 or a name SUN-SAT'}
    ${'* * * * JAN'}         | ${'day-of-week'}  | ${'day-of-week field "JAN" is not a number 0-7 or a name SUN-SAT'}
    ${'1,,2 * * * *'}        | ${'minute'}       | ${'minute field "1,,2" is not valid'}
    ${'1, * * * *'}          | ${'minute'}       | ${'minute field "1," is not valid'}
    ${'1- * * * *'}          | ${'minute'}       | ${'minute field "1-" is not valid'}
    ${'*-5 * * * *'}         | ${'minute'}       | ${'minute field "*-5" is not valid'}
    ${'1-2-3 * * * *'}       | ${'minute'}       | ${'minute field "1-2-3" is not valid'}
    ${'*/ * * * *'}          | ${'minute'}       | ${'minute field "*/" is not valid'}
    ${'*/2/2 * * * *'}       | ${'minute'}       | ${'minute field "*/2/2" is not valid'}
    ${'-1 * * * *'}          | ${'minute'}       | ${'minute field "-1" is not valid'}
    ${'1.5 * * * *'}         | ${'minute'}       | ${'minute field "1.5" is not valid'}
    ${'? * * * *'}           | ${'minute'}       | ${'minute field "?" is not valid'}
    ${'0 0 ? * MON'}         | ${'day-of-month'} | ${'day-of-month field "?" is not valid'}
    ${'61 24 * * *'}         | ${'minute'}       | ${'minute field "61" is out of range 0-59'}
    ${'0 0 30 2 *'}          | ${'day-of-month'} | ${'day-of-month field "30" never matches month field "2"'}
    ${'0 0 30,31 FEB *'}     | ${'day-of-month'} | ${'day-of-month field "30,31" never matches month field "FEB"'}
    ${'0 0 31 4,6,9,11 *'}   | ${'day-of-month'} | ${'day-of-month field "31" never matches month field "4,6,9,11"'}
  `('"$expr": $message', ({ expr, field, message }) => {
    let thrown: unknown;
    try {
      parseCron(expr);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CronSyntaxError);
    expect(thrown).toMatchObject({ name: 'CronSyntaxError', message, field });
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
