import { normalizeContextPatch } from './job-context';

describe('normalizeContextPatch', () => {
  it('takes string values to set and nulls to delete', () => {
    expect(normalizeContextPatch({ cursor: 'c-2', stale: null, empty: '' })).toEqual({ value: { cursor: 'c-2', stale: null, empty: '' }, problems: [] });
    expect(normalizeContextPatch({})).toEqual({ value: {}, problems: [] });
  });

  it.each`
    body                          | field      | message
    ${null}                       | ${'body'}  | ${'must be a JSON object of keys to string values (or null to delete a key)'}
    ${'text'}                     | ${'body'}  | ${'must be a JSON object of keys to string values (or null to delete a key)'}
    ${[{ a: 'b' }]}               | ${'body'}  | ${'must be a JSON object of keys to string values (or null to delete a key)'}
    ${{ n: 1 }}                   | ${'n'}     | ${'must be a string, or null to delete the key (got a number); store other values as JSON text'}
    ${{ b: true }}                | ${'b'}     | ${'must be a string, or null to delete the key (got a boolean); store other values as JSON text'}
    ${{ o: { nested: 'x' } }}     | ${'o'}     | ${'must be a string, or null to delete the key (got an object); store other values as JSON text'}
    ${{ l: ['x'] }}               | ${'l'}     | ${'must be a string, or null to delete the key (got an array); store other values as JSON text'}
    ${{ '': 'x' }}                | ${'""'}    | ${'is not a valid key: keys are 1 to 128 characters'}
    ${{ constructor: 'x' }}       | ${'constructor'} | ${'is a reserved name'}
  `('refuses $body at $field', ({ body, field, message }) => {
    expect(normalizeContextPatch(body)).toEqual({ problems: [{ field, message }] });
  });

  it('limits keys to 128 characters', () => {
    expect(normalizeContextPatch({ ['k'.repeat(128)]: 'v' }).problems).toEqual([]);
    expect(normalizeContextPatch({ ['k'.repeat(129)]: 'v' }).problems).toEqual([{ field: `${'k'.repeat(128)}…`, message: 'is not a valid key: keys are 1 to 128 characters' }]);
  });

  it('limits a patch to 1000 keys', () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    expect(normalizeContextPatch(keys(1000)).problems).toEqual([]);
    expect(normalizeContextPatch(keys(1001)).problems).toEqual([{ field: 'body', message: 'must have at most 1000 keys' }]);
  });

  it('limits values to 64 KiB of UTF-8', () => {
    expect(normalizeContextPatch({ v: 'x'.repeat(65_536) }).problems).toEqual([]);
    expect(normalizeContextPatch({ v: 'x'.repeat(65_537) }).problems).toEqual([{ field: 'v', message: 'must be at most 64 KiB (UTF-8)' }]);
    // 'é' is two bytes: 32 769 of them are over the limit although the string is short.
    expect(normalizeContextPatch({ v: 'é'.repeat(32_769) }).problems).toEqual([{ field: 'v', message: 'must be at most 64 KiB (UTF-8)' }]);
  });

  it('names every bad key at once', () => {
    expect(normalizeContextPatch({ a: 1, ok: 'x', b: {} }).problems.map((p) => p.field)).toEqual(['a', 'b']);
  });

  it('refuses a __proto__ key from parsed JSON', () => {
    expect(normalizeContextPatch(JSON.parse('{"__proto__":"x"}')).problems).toEqual([{ field: '__proto__', message: 'is a reserved name' }]);
  });
});
