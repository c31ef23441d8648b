import { BODY_PREVIEW_BYTES, attemptRecordOf, outboundRequestOf, previewOf } from './attempt';

const started = new Date('2026-03-15T10:00:00.000Z');

describe('previewOf', () => {
  it('keeps a small body whole', () => {
    expect(previewOf(Buffer.from('hello'))).toBe('hello');
  });

  it('caps at 64 KiB without splitting a character', () => {
    const body = Buffer.from('a'.repeat(BODY_PREVIEW_BYTES - 1) + 'é' + 'z'.repeat(100));
    const preview = previewOf(body);
    expect(Buffer.byteLength(preview)).toBeLessThanOrEqual(BODY_PREVIEW_BYTES);
    expect(preview.endsWith('a')).toBe(true);
    expect(preview).not.toContain('\uFFFD');
  });

  it('replaces NUL characters, which PostgreSQL jsonb cannot store', () => {
    expect(previewOf(Buffer.from([0x61, 0x00, 0x62]))).toBe('a\uFFFDb');
  });
});

describe('attemptRecordOf', () => {
  it.each`
    result                                                                  | status                | errorClass
    ${{ kind: 'response', status: 200, headers: {}, body: Buffer.from('') }} | ${'SUCCESS'}          | ${null}
    ${{ kind: 'response', status: 503, headers: {}, body: Buffer.from('') }} | ${'HTTP_ERROR'}       | ${null}
    ${{ kind: 'timeout', message: 'too slow' }}                             | ${'TIMEOUT'}          | ${'Timeout'}
    ${{ kind: 'connection_error', message: 'refused', code: 'ECONNREFUSED' }} | ${'CONNECTION_ERROR'} | ${'ECONNREFUSED'}
    ${{ kind: 'blocked', message: 'private address' }}                      | ${'CONNECTION_ERROR'} | ${'DestinationBlocked'}
    ${{ kind: 'invalid_url', message: 'bad' }}                              | ${'CONNECTION_ERROR'} | ${'InvalidUrl'}
  `('$result.kind $result.status -> $status', ({ result, status, errorClass }) => {
    const record = attemptRecordOf(2, started, { latencyMs: 12.4, truncated: false, finalUrl: '', redirects: 0, ...result }, [200]);
    expect(record).toMatchObject({ number: 2, status, errorClass, latencyMs: 12, startedAt: started.toISOString() });
  });
});

describe('outboundRequestOf', () => {
  it('adds the execution id header and sends objects as JSON', () => {
    const req = outboundRequestOf(
      { url: 'https://e.com', method: 'POST', headers: { 'X-A': '1' }, body: { a: 1 }, timeout_seconds: 5, success_statuses: [200] },
      'exec_1',
    );
    expect(req).toEqual({
      url: 'https://e.com',
      method: 'POST',
      headers: { 'X-A': '1', 'X-Cron-Service-Execution-Id': 'exec_1', 'Content-Type': 'application/json' },
      body: '{"a":1}',
      timeoutMs: 5000,
    });
  });

  it('sends strings raw and keeps a job-set content type', () => {
    const req = outboundRequestOf(
      { url: 'https://e.com', method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b', timeout_seconds: 5, success_statuses: [200] },
      'exec_1',
    );
    expect(req.body).toBe('a,b');
    expect(req.headers).toEqual({ 'content-type': 'text/csv', 'X-Cron-Service-Execution-Id': 'exec_1' });
  });
});
