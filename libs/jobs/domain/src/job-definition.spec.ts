import { normalizeRequest, normalizeRetryPolicy } from './job-definition';

describe('normalizeRequest', () => {
  it('fills the documented defaults', () => {
    expect(normalizeRequest({ url: 'https://example.com/a' })).toEqual({
      value: { url: 'https://example.com/a', method: 'GET', headers: {}, timeout_seconds: 30, success_statuses: [200, 201, 202, 204] },
      problems: [],
    });
  });

  it.each`
    input                                                                          | field                          | message
    ${{}}                                                                          | ${'request.url'}               | ${'is required'}
    ${{ url: 'ftp://example.com' }}                                                | ${'request.url'}               | ${'must use http or https'}
    ${{ url: 'not a url' }}                                                        | ${'request.url'}               | ${'must be an absolute http or https URL'}
    ${{ url: 'https://u:p@example.com' }}                                          | ${'request.url'}               | ${'must not embed credentials; use a header with secret://'}
    ${{ url: 'https://e.com', method: 'TRACE' }}                                   | ${'request.method'}            | ${'must be one of GET, POST, PUT, PATCH, DELETE'}
    ${{ url: 'https://e.com', timeout_seconds: 0 }}                                | ${'request.timeout_seconds'}   | ${'must be an integer from 1 to 300'}
    ${{ url: 'https://e.com', timeout_seconds: 301 }}                              | ${'request.timeout_seconds'}   | ${'must be an integer from 1 to 300'}
    ${{ url: 'https://e.com', success_statuses: [] }}                              | ${'request.success_statuses'}  | ${'must be a non-empty list of HTTP status codes (100-599)'}
    ${{ url: 'https://e.com', headers: { 'X-A': 1 } }}                             | ${'request.headers.X-A'}       | ${'must be a string'}
    ${{ url: 'https://e.com', headers: { 'Bad Name': 'x' } }}                      | ${'request.headers.Bad Name'}  | ${'is not a valid header name'}
    ${{ url: 'https://e.com', headers: { Host: 'x' } }}                            | ${'request.headers.Host'}      | ${'is set by the platform'}
    ${{ url: 'https://e.com', headers: { 'X-A': 'a\r\nInjected: 1' } }}            | ${'request.headers.X-A'}       | ${'must be Latin-1 text without line breaks or control characters (HTTP cannot send anything else in a header)'}
    ${{ url: 'https://e.com', headers: { 'X-A': '\u20ac outside Latin-1' } }}                | ${'request.headers.X-A'}       | ${'must be Latin-1 text without line breaks or control characters (HTTP cannot send anything else in a header)'}
    ${{ url: 'https://e.com', headers: { 'X-A': '\u0000' } }}                                | ${'request.headers.X-A'}       | ${'must be Latin-1 text without line breaks or control characters (HTTP cannot send anything else in a header)'}
    ${{ url: 'https://e.com', headers: { 'X-A': 'emoji \u{1F600}' } }}                       | ${'request.headers.X-A'}       | ${'must be Latin-1 text without line breaks or control characters (HTTP cannot send anything else in a header)'}
    ${{ url: 'https://e.com', headers: { 'X-A': 'bell \u0007' } }}                           | ${'request.headers.X-A'}       | ${'must be Latin-1 text without line breaks or control characters (HTTP cannot send anything else in a header)'}
    ${{ url: 'https://e.com', headers: { 'X-A': '\uD800' } }}                                | ${'request.headers.X-A'}       | ${'must be Latin-1 text without line breaks or control characters (HTTP cannot send anything else in a header)'}
    ${{ url: 'https://e.com', body: { a: 1 } }}                                    | ${'request.body'}              | ${'is not allowed with GET'}
  `('$field $message', ({ input, field, message }) => {
    expect(normalizeRequest(input).problems).toContainEqual({ field, message });
  });

  it('accepts header values HTTP can send: visible ASCII, tab, space and Latin-1', () => {
    expect(normalizeRequest({ url: 'https://e.com', headers: { 'X-A': 'caf\u00e9\tOK ~ \u00ff', 'X-B': 'secret://KEY', 'X-C': '{{uuid}}' } }).problems).toEqual([]);
  });

  it('reports every problem at once', () => {
    expect(normalizeRequest({ url: 'ftp://x', method: 'NOPE', timeout_seconds: 'a' }).problems).toHaveLength(3);
  });
});

describe('normalizeRetryPolicy', () => {
  it('defaults to 3 attempts on the transient statuses', () => {
    expect(normalizeRetryPolicy(undefined).value).toEqual({ max_attempts: 3, retry_on_statuses: [429, 500, 502, 503, 504] });
  });

  it('bounds max_attempts to 1-10', () => {
    expect(normalizeRetryPolicy({ max_attempts: 11 }).problems).toEqual([{ field: 'retry_policy.max_attempts', message: 'must be an integer from 1 to 10' }]);
    expect(normalizeRetryPolicy({ max_attempts: 1 }).value?.max_attempts).toBe(1);
  });
});
