import { parseConfig } from '@trigrun/config';
import { describeLimit, parseRateLimit, quotaField, rateLimitField } from './limit';

describe('parseRateLimit', () => {
  it.each`
    raw           | max     | windowMs
    ${'10/10m'}   | ${10}   | ${600_000}
    ${'1200/1m'}  | ${1200} | ${60_000}
    ${'5/30s'}    | ${5}    | ${30_000}
    ${' 20 / 1h'} | ${20}   | ${3_600_000}
    ${'60/m'}     | ${60}   | ${60_000}
    ${'7/24H'}    | ${7}    | ${86_400_000}
  `('reads $raw', ({ raw, max, windowMs }) => {
    expect(parseRateLimit(raw)).toEqual({ max, windowMs });
  });

  it('reads off as no limit', () => {
    expect(parseRateLimit('off')).toBeNull();
    expect(parseRateLimit(' OFF ')).toBeNull();
  });

  it.each(['', '10', '10/', '/1m', '0/1m', '-1/1m', '10/0s', '10/25h', '10/1d', '1.5/1m', '10/1m/2', 'ten/1m', '10/1ms'])('refuses %p', (raw) => {
    expect(() => parseRateLimit(raw)).toThrow(/must be|at least|between/);
  });
});

describe('config fields', () => {
  const schema = { LIMIT: rateLimitField('10/1m'), QUOTA: quotaField(1000) };

  it('apply the default when the variable is unset or empty', () => {
    expect(parseConfig(schema, {})).toEqual({ LIMIT: { max: 10, windowMs: 60_000 }, QUOTA: 1000 });
    expect(parseConfig(schema, { LIMIT: '', QUOTA: ' ' })).toEqual({ LIMIT: { max: 10, windowMs: 60_000 }, QUOTA: 1000 });
  });

  it('take a value or off', () => {
    expect(parseConfig(schema, { LIMIT: '3/5s', QUOTA: '7' })).toEqual({ LIMIT: { max: 3, windowMs: 5_000 }, QUOTA: 7 });
    expect(parseConfig(schema, { LIMIT: 'off', QUOTA: 'off' })).toEqual({ LIMIT: null, QUOTA: null });
  });

  it('name the variable of a bad value', () => {
    expect(() => parseConfig(schema, { LIMIT: 'lots', QUOTA: '0' })).toThrow(/LIMIT: must be <max>\/<window>[\s\S]*QUOTA: must be a positive integer/);
  });
});

describe('describeLimit', () => {
  it.each`
    max   | windowMs     | text
    ${10} | ${600_000}   | ${'10 per 10 minutes'}
    ${1}  | ${60_000}    | ${'1 per minute'}
    ${5}  | ${30_000}    | ${'5 per 30 seconds'}
    ${20} | ${3_600_000} | ${'20 per hour'}
  `('says $text', ({ max, windowMs, text }) => {
    expect(describeLimit({ max, windowMs })).toBe(text);
  });
});
