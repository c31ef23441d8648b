import { parseTriggerBody } from './trigger-body';
import { triggerHeaders } from './trigger-headers';
import { buildTriggerInput, parseQuery } from './trigger-input';

describe('buildTriggerInput', () => {
  it('assembles trigger_input from the pieces the other functions made', () => {
    const parsed = parseTriggerBody(new TextEncoder().encode('{"action":"opened"}'), 'application/json; charset=utf-8');
    if (!parsed.ok) throw new Error('expected a body');
    const input = buildTriggerInput({
      method: 'post',
      headers: triggerHeaders({ 'Content-Type': 'application/json; charset=utf-8', Authorization: 'Bearer t', 'X-GitHub-Event': 'issues' }),
      url: '/v1/triggers/tok_secret?source=github&tag=a&tag=b',
      body: parsed.body,
      contentType: parsed.contentType,
      receivedAt: new Date('2026-03-01T12:00:00.123Z'),
      sourceIp: '198.51.100.2',
    });
    expect(input).toEqual({
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-github-event': 'issues' },
      query: { source: 'github', tag: ['a', 'b'] },
      body: { action: 'opened' },
      content_type: 'application/json',
      received_at: '2026-03-01T12:00:00.123Z',
      source_ip: '198.51.100.2',
    });
    expect(JSON.stringify(input)).not.toContain('tok_secret');
  });

  it('keeps a null source ip and content type', () => {
    const input = buildTriggerInput({ method: 'POST', headers: triggerHeaders({}), url: '/v1/triggers/t', body: '', contentType: null, receivedAt: new Date(0), sourceIp: null });
    expect(input).toEqual({ method: 'POST', headers: {}, query: {}, body: '', content_type: null, received_at: '1970-01-01T00:00:00.000Z', source_ip: null });
  });
});

describe('parseQuery', () => {
  it.each<[string, string, Record<string, string | string[]>]>([
    ['no query', '/v1/triggers/t', {}],
    ['an empty query', '/v1/triggers/t?', {}],
    ['one field', '/h?a=1', { a: '1' }],
    ['repeated fields are arrays, in order', '/h?a=2&b=1&a=1&a=3', { a: ['2', '1', '3'], b: '1' }],
    ['keys as sent, no nesting', '/h?a[b]=1&a[]=2&a[]=3', { 'a[b]': '1', 'a[]': ['2', '3'] }],
    ['a field without a value', '/h?flag&x=', { flag: '', x: '' }],
    ['plus and percent escapes', '/h?q=a+b%20c%2B', { q: 'a b c+' }],
    ['a ? in the value belongs to the query', '/h?next=/a?b=c', { next: '/a?b=c' }],
    ['a fragment is not part of it', '/h?a=1#b=2', { a: '1' }],
    ['%00 and invalid UTF-8 escapes become U+FFFD', '/h?a%00=%00&b=%FF', { 'a\uFFFD': '\uFFFD', b: '\uFFFD' }],
    ['__proto__ is a plain key', '/h?__proto__=x', { ['__proto__']: 'x' }],
  ])('%s', (_name, url, expected) => {
    const query = parseQuery(url);
    expect(Object.getPrototypeOf(query)).toBe(Object.prototype);
    expect(Object.entries(query)).toEqual(Object.entries(expected));
  });
});
