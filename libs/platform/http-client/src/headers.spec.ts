import { joinResponseHeaders, normaliseRequestHeaders } from './headers';
import { parseTargetUrl, redactedHref } from './target-url';

describe('normaliseRequestHeaders', () => {
  it('lower-cases names, drops host and defaults the user agent', () => {
    expect(normaliseRequestHeaders({ 'Content-Type': 'text/plain', Host: 'evil.internal', 'X-A': '1', 'x-a': '2' }, 'TrigRun')).toEqual({
      'user-agent': 'TrigRun',
      'content-type': 'text/plain',
      'x-a': '2',
    });
  });

  it('lets the caller set the user agent', () => {
    expect(normaliseRequestHeaders({ 'User-Agent': 'custom' }, 'TrigRun')).toEqual({ 'user-agent': 'custom' });
  });
});

describe('joinResponseHeaders', () => {
  it('lower-cases names and joins repeated values in order', () => {
    expect(joinResponseHeaders(['Set-Cookie', 'a=1', 'X-Id', '7', 'set-cookie', 'b=2', 'Content-Type', 'text/plain'])).toEqual({
      'set-cookie': 'a=1, b=2',
      'x-id': '7',
      'content-type': 'text/plain',
    });
  });

  it('keeps odd names as plain own properties', () => {
    const headers = joinResponseHeaders(['__proto__', 'x', 'constructor', 'y']);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.keys(headers)).toEqual(['__proto__', 'constructor']);
    expect(headers.constructor).toBe('y');
  });
});

describe('parseTargetUrl', () => {
  it.each([
    ['http://example.com/x?y=1#frag', 'example.com', 80, false],
    ['https://Example.COM:8443/', 'example.com', 8443, true],
    ['http://[::1]:8080/', '::1', 8080, false],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1', 80, false],
    ['http://2130706433/', '127.0.0.1', 80, false],
    ['http://0x7f.1/', '127.0.0.1', 80, false],
  ] as const)('%s -> host %s port %s', (text, host, port, secure) => {
    const parsed = parseTargetUrl(text);
    expect(parsed.ok && parsed.target).toMatchObject({ host, port, secure });
  });

  it.each(['ftp://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'example.com', 'http://', 'http://a%zz:b@example.com/'])(
    'refuses %j',
    (text) => {
      expect(parseTargetUrl(text).ok).toBe(false);
    },
  );

  it('resolves a relative Location against the current URL', () => {
    const parsed = parseTargetUrl('../c?d=1', new URL('https://example.com/a/b/x'));
    expect(parsed.ok && parsed.target.url.href).toBe('https://example.com/a/c?d=1');
  });

  it('decodes credentials for node, and redacts them from reported URLs', () => {
    const parsed = parseTargetUrl('https://us%40er:p%3Ass@example.com/x');
    expect(parsed.ok && parsed.target.auth).toBe('us@er:p:ss');
    expect(parsed.ok && redactedHref(parsed.target.url)).toBe('https://example.com/x');
  });
});
