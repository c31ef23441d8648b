import { MAX_HEADER_VALUE_LENGTH, TRUNCATION_MARKER, triggerHeaders } from './trigger-headers';

describe('triggerHeaders', () => {
  it.each<[string, Record<string, string | string[] | undefined>, string[], Record<string, string>]>([
    ['lower-cases names', { 'Content-Type': 'application/json', 'X-Event': 'push' }, [], { 'content-type': 'application/json', 'x-event': 'push' }],
    ['joins several values with ", "', { 'x-tag': ['a', 'b', 'c'] }, [], { 'x-tag': 'a, b, c' }],
    ['names that differ only in case are one header', { 'X-A': '1', 'x-a': '2' }, [], { 'x-a': '1, 2' }],
    ['skips undefined values and empty arrays', { a: undefined, b: [], c: '' }, [], { c: '' }],
    [
      'strips credentials, any case',
      { Authorization: 'Bearer t', Cookie: 'sid=1', 'X-Webhook-Secret': 's', 'Proxy-Authorization': 'Basic x', 'x-ok': '1' },
      [],
      { 'x-ok': '1' },
    ],
    [
      'strips the signature headers the caller names, any case',
      { 'Webhook-Signature': 'v1,abc', 'webhook-id': 'msg_1', 'X-Hub-Signature-256': 'sha256=00', 'x-ok': '1' },
      ['webhook-signature', 'X-HUB-SIGNATURE-256'],
      { 'webhook-id': 'msg_1', 'x-ok': '1' },
    ],
    ['NUL and lone surrogates become U+FFFD', { 'x-a': 'a\u0000b\ud800' }, [], { 'x-a': 'a\uFFFDb\uFFFD' }],
    ['Latin-1 bytes (obs-text) are kept', { 'x-a': 'caf\u00e9' }, [], { 'x-a': 'caf\u00e9' }],
    ['names over 256 characters are dropped', { ['x'.repeat(257)]: '1', ['y'.repeat(256)]: '2' }, [], { ['y'.repeat(256)]: '2' }],
  ])('%s', (_name, headers, drop, expected) => {
    expect(triggerHeaders(headers, drop)).toEqual(expected);
  });

  it('keeps a header literally named __proto__ as an own key', () => {
    const headers = Object.defineProperty({}, '__proto__', { value: 'x', enumerable: true }) as Record<string, string>;
    const kept = triggerHeaders(headers);
    expect(Object.getPrototypeOf(kept)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(kept, '__proto__')?.value).toBe('x');
  });

  it('keeps the first 100 headers, after stripping, in the order they came', () => {
    const headers: Record<string, string> = { authorization: 'Bearer t' };
    for (let i = 0; i < 10_000; i++) headers[`x-h${i}`] = String(i);
    const kept = triggerHeaders(headers);
    expect(Object.keys(kept)).toHaveLength(100);
    expect(Object.keys(kept)[0]).toBe('x-h0');
    expect(Object.keys(kept)[99]).toBe('x-h99');
  });

  it('a later value of a kept header still joins it once 100 are kept', () => {
    const headers: Record<string, string> = { 'X-First': 'a' };
    for (let i = 0; i < 150; i++) headers[`x-h${i}`] = 'v';
    headers['x-first'] = 'b';
    expect(triggerHeaders(headers)['x-first']).toBe('a, b');
  });

  it.each([
    ['at the limit: kept whole', 'a'.repeat(MAX_HEADER_VALUE_LENGTH), 'a'.repeat(MAX_HEADER_VALUE_LENGTH)],
    ['one over: cut to the limit, the marker included', 'a'.repeat(MAX_HEADER_VALUE_LENGTH + 1), 'a'.repeat(MAX_HEADER_VALUE_LENGTH - TRUNCATION_MARKER.length) + TRUNCATION_MARKER],
    ['a megabyte', 'b'.repeat(1024 * 1024), 'b'.repeat(MAX_HEADER_VALUE_LENGTH - TRUNCATION_MARKER.length) + TRUNCATION_MARKER],
    [
      'never cut inside a surrogate pair',
      'a'.repeat(MAX_HEADER_VALUE_LENGTH - TRUNCATION_MARKER.length - 1) + '\ud83d\ude00'.repeat(10),
      'a'.repeat(MAX_HEADER_VALUE_LENGTH - TRUNCATION_MARKER.length - 1) + TRUNCATION_MARKER,
    ],
  ])('a long value, %s', (_name, value, expected) => {
    const kept = triggerHeaders({ 'x-long': value })['x-long'];
    expect(kept).toBe(expected);
    expect(kept.length).toBeLessThanOrEqual(MAX_HEADER_VALUE_LENGTH);
  });

  it('bounds a joined value too, however many values there are', () => {
    const kept = triggerHeaders({ 'x-many': Array<string>(1_000_000).fill('v') })['x-many'];
    expect(kept.length).toBe(MAX_HEADER_VALUE_LENGTH);
    expect(kept.endsWith(TRUNCATION_MARKER)).toBe(true);
  });
});
