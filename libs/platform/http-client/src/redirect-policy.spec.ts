import type { HttpMethod } from './outbound-request';
import { isFollowedRedirect, requestAfterRedirect, type HopRequest } from './redirect-policy';

const from = new URL('https://api.example.com/a');
const sameOrigin = new URL('https://api.example.com/b');
const otherOrigin = new URL('https://cdn.example.com/b');

const request = (method: HttpMethod): HopRequest => ({
  method,
  headers: { 'content-type': 'application/json', 'content-length': '2', authorization: 'Bearer k', cookie: 'c=1', 'x-trace': 't' },
  body: '{}',
});

describe('isFollowedRedirect', () => {
  it.each([
    [301, true],
    [302, true],
    [303, true],
    [307, true],
    [308, true],
    [300, false],
    [304, false],
    [305, false],
    [200, false],
    [404, false],
  ])('%s -> %s', (status, followed) => {
    expect(isFollowedRedirect(status)).toBe(followed);
  });
});

describe('requestAfterRedirect', () => {
  it.each([
    [301, 'POST', 'GET', false],
    [302, 'POST', 'GET', false],
    [303, 'POST', 'GET', false],
    [303, 'PUT', 'GET', false],
    [302, 'DELETE', 'GET', false],
    [301, 'PATCH', 'GET', false],
    [303, 'GET', 'GET', false],
    [303, 'HEAD', 'HEAD', true],
    [307, 'POST', 'POST', true],
    [308, 'PUT', 'PUT', true],
    [307, 'DELETE', 'DELETE', true],
  ] as const)('%s after %s continues as %s (body kept: %s)', (status, method, nextMethod, keepsBody) => {
    const next = requestAfterRedirect(status, request(method), from, sameOrigin);
    expect(next.method).toBe(nextMethod);
    expect(next.body).toEqual(keepsBody ? '{}' : undefined);
    expect('content-type' in next.headers).toBe(keepsBody);
    expect('content-length' in next.headers).toBe(keepsBody);
    expect(next.headers['x-trace']).toBe('t');
  });

  it('keeps credentials on the same origin', () => {
    const next = requestAfterRedirect(307, request('POST'), from, sameOrigin);
    expect(next.headers).toMatchObject({ authorization: 'Bearer k', cookie: 'c=1' });
  });

  it.each([
    ['another host', otherOrigin],
    ['another scheme', new URL('http://api.example.com/a')],
    ['another port', new URL('https://api.example.com:8443/a')],
  ])('drops credentials when redirected to %s', (_label, to) => {
    const next = requestAfterRedirect(308, request('POST'), from, to);
    expect(next.headers.authorization).toBeUndefined();
    expect(next.headers.cookie).toBeUndefined();
    expect(next.headers['x-trace']).toBe('t');
    expect(next.body).toBe('{}');
  });
});
