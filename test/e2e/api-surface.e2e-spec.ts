import { api, signup } from './support/client';
import { createJob, expectError, expectValidation } from './support/fixtures';

// The e2e project's `testTimeout` in jest.config.js is not applied per project (Jest reads it
// globally), so the default 5 s would cut runs that wait for retries and timeouts.
jest.setTimeout(60_000);

const request = { url: 'http://127.0.0.1:9/never-called' };
const json = { 'content-type': 'application/json' };

describe('bad input is a 400, never a 500, and stores nothing (docs/api-conventions.md)', () => {
  it('answers malformed JSON with 400 validation_failed, on a private and on a public endpoint', async () => {
    const account = await signup('malformed');
    for (const rawBody of ['{"name": "x", ', '{name: x}', "{'a':1}", '{"a":1}}']) {
      expectError(await api('POST', '/v1/jobs', { token: account.token, rawBody, headers: json }), 400, 'validation_failed');
      expectError(await api('POST', '/v1/auth/signup', { rawBody, headers: json }), 400, 'validation_failed');
      expectError(await api('POST', '/v1/auth/login', { rawBody, headers: json }), 400, 'validation_failed');
    }
    expect((await api('GET', '/v1/jobs', { token: account.token })).body.data).toEqual([]);
  });

  it('answers a JSON array, number, string or null body with 400', async () => {
    const account = await signup('shapes');
    const draft = await createJob(account, { name: 'target of patches', state: 'draft', request });
    expect(draft.status).toBe(201);
    // Collected first and compared at once, so a failure lists every endpoint and body that slipped through.
    const answers: string[] = [];
    for (const rawBody of ['[]', '[{"name":"x","kind":"one_time"}]', '42', '"hello"', 'null', 'true']) {
      const calls = {
        'POST /v1/jobs': api('POST', '/v1/jobs', { token: account.token, rawBody, headers: json }),
        'POST /v1/auth/signup': api('POST', '/v1/auth/signup', { rawBody, headers: json }),
        'PATCH /v1/jobs/:id': api('PATCH', `/v1/jobs/${draft.body.id}`, { token: account.token, rawBody, headers: json }),
      };
      for (const [what, call] of Object.entries(calls)) {
        const res = await call;
        answers.push(`${what} ${rawBody} -> ${res.status} ${res.body?.error?.code ?? ''}`.trim());
      }
    }
    expect(answers).toEqual(answers.map((a) => a.replace(/-> .*$/, '-> 400 validation_failed')));
    // Nothing was created, and the patched job is unchanged.
    expect((await api('GET', '/v1/jobs', { token: account.token })).body.data).toEqual([draft.body]);
  });

  it('answers an empty body or a non-JSON content type with a 4xx envelope', async () => {
    const account = await signup('empty');
    expectError(await api('POST', '/v1/jobs', { token: account.token, rawBody: '', headers: json }), 400, 'validation_failed');
    const text = await api('POST', '/v1/jobs', { token: account.token, rawBody: 'name=x', headers: { 'content-type': 'text/plain' } });
    expect([400, 415]).toContain(text.status);
    expectError(text, text.status, text.status === 415 ? 'unsupported_media_type' : 'validation_failed');
  });

  it('names an unknown field, at the top level and inside request', async () => {
    const account = await signup('unknownfield');
    expectValidation(await createJob(account, { request, colour: 'blue' }), 'colour');
    expectValidation(await createJob(account, { request: { ...request, verb: 'GET' } }), 'request.verb');
    expectValidation(await createJob(account, { request, retry_policy: { attempts: 2 } }), 'retry_policy.attempts');
    expectValidation(await api('POST', '/v1/auth/signup', { body: { name: 'a', email: 'a@example.test', password: 'long enough', workspace_name: 'w', timezone: 'UTC', admin: true } }), 'admin');
  });

  it('names each bad job field', async () => {
    const account = await signup('badjob');
    expectValidation(await createJob(account, { request: {} }), 'request.url');
    expectValidation(await createJob(account, { request: { method: 'POST' } }), 'request.url');
    expectValidation(await createJob(account, {}), 'request');
    expectValidation(await createJob(account, { request: { url: 'not a url' } }), 'request.url');
    expectValidation(await createJob(account, { request: { url: 'ftp://example.com/file' } }), 'request.url');
    expectValidation(await createJob(account, { kind: 'hourly', request }), 'kind');
    expectValidation(await createJob(account, { kind: undefined, request }), 'kind');
    expectValidation(await createJob(account, { name: undefined, request }), 'name');
    expectValidation(await createJob(account, { name: '', request }), 'name');
    expectValidation(await createJob(account, { request: { ...request, method: 'TRACE' } }), 'request.method');
    expectValidation(await createJob(account, { request: { ...request, method: 'get' } }), 'request.method');
    expectValidation(await createJob(account, { request: { ...request, timeout_seconds: 0 } }), 'request.timeout_seconds');
    expectValidation(await createJob(account, { request: { ...request, timeout_seconds: 301 } }), 'request.timeout_seconds');
    expectValidation(await createJob(account, { request: { ...request, timeout_seconds: 1.5 } }), 'request.timeout_seconds');
    expectValidation(await createJob(account, { request: { ...request, timeout_seconds: '30' } }), 'request.timeout_seconds');
    expectValidation(await createJob(account, { request: { ...request, headers: { 'X-Evil': 'a\r\nInjected: yes' } } }), 'request.headers.X-Evil');
    expectValidation(await createJob(account, { request: { ...request, headers: { 'X-Evil': 'a\nb' } } }), 'request.headers.X-Evil');
    expectValidation(await createJob(account, { request: { ...request, headers: { 'Bad Name': 'x' } } }));
    expectValidation(await createJob(account, { request: { ...request, headers: { 'X-Num': 5 } } }));
    expectValidation(await createJob(account, { request: { ...request, success_statuses: [] } }), 'request.success_statuses');
    expectValidation(await createJob(account, { request: { ...request, success_statuses: [99] } }), 'request.success_statuses');
    expectValidation(await createJob(account, { request, retry_policy: { max_attempts: 0 } }), 'retry_policy.max_attempts');
    expectValidation(await createJob(account, { request, retry_policy: { max_attempts: 11 } }), 'retry_policy.max_attempts');
    expectValidation(await createJob(account, { request, state: 'paused' }), 'state');
    expectValidation(await createJob(account, { request, state: 'completed' }), 'state');
    expectValidation(await createJob(account, { request, max_concurrent_executions: -1 }), 'max_concurrent_executions');
    // Several problems at once are all named.
    expectValidation(
      await createJob(account, { name: '', request: { url: '', method: 'TRACE', timeout_seconds: 0 } }),
      'name',
      'request.url',
      'request.method',
      'request.timeout_seconds',
    );
    expect((await api('GET', '/v1/jobs', { token: account.token })).body).toEqual({ data: [], next_cursor: null });
    expect((await api('GET', '/v1/executions', { token: account.token })).body).toEqual({ data: [], next_cursor: null });
  });

  it('answers kinds this version lacks with a clear 400', async () => {
    const account = await signup('unsupported');
    // The step-driven kinds are answered with a clear 400 until they land.
    for (const kind of ['webhook_trigger']) {
      const error = expectValidation(await createJob(account, { kind, request }), 'kind');
      expect(error.message).toMatch(/not available in this version yet/);
    }
    expect((await api('GET', '/v1/jobs', { token: account.token })).body.data).toEqual([]);
  });

  it('answers a body over 1 MiB with 413 payload_too_large, which reaches a client still sending it', async () => {
    const account = await signup('huge');
    const big = JSON.stringify({ name: 'huge', kind: 'one_time', request: { ...request, method: 'POST', body: 'x'.repeat(4 * 1024 * 1024) } });
    // fetch fails with EPIPE, losing the answer, if the server closes while the body is still on its
    // way; before the server read refused bodies to their end that happened to about 1 call in 7.
    // Repeated to make a regression show, on a private and on the public edge (trigger-ingest,
    // behind the gateway in local mode).
    const answers: string[] = [];
    for (let i = 0; i < 8; i++) {
      for (const [path, headers] of [
        ['/v1/jobs', { ...json, authorization: `Bearer ${account.token}` }],
        ['/v1/auth/signup', json],
        ['/v1/resume/exec_x.token', json],
      ] as const) {
        const res = await api('POST', path, { rawBody: big, headers }).catch((error: Error) => ({ status: 0, body: { error: { code: String((error.cause as { code?: string })?.code ?? error.message) } } }));
        answers.push(`${path} ${res.status} ${res.body?.error?.code}`);
      }
    }
    expect(answers.filter((a) => !a.endsWith(' 413 payload_too_large'))).toEqual([]);
    expect((await api('GET', '/v1/jobs', { token: account.token })).body.data).toEqual([]);
    // Just under the limit is fine as far as size goes.
    const fits = await createJob(account, { name: 'fits', state: 'draft', request: { ...request, method: 'POST', body: 'x'.repeat(900 * 1024) } });
    expect(fits.status).toBe(201);
  });
});

describe('routing and the error envelope', () => {
  it('answers an unknown route with a 404 envelope, with or without a token', async () => {
    const account = await signup('routes');
    expectError(await api('GET', '/v1/no-such-thing', { token: account.token }), 404, 'not_found');
    expectError(await api('GET', '/v1/no-such-thing'), 404, 'not_found');
    expectError(await api('GET', '/nothing/here'), 404, 'not_found');
    expectError(await api('POST', '/v1/jobs/job_x/explode', { token: account.token }), 404, 'not_found');
  });

  it('every error kind has exactly {error:{code,message,details}}', async () => {
    const account = await signup('envelope');
    expectError(await api('GET', '/v1/jobs'), 401, 'unauthorized');
    expectError(await api('GET', '/v1/jobs/job_missing', { token: account.token }), 404, 'not_found');
    const validation = expectValidation(await createJob(account, { request: {} }), 'request.url');
    expect(Object.keys(validation.details)).toContain('fields');
    for (const f of validation.details.fields) expect(Object.keys(f).sort()).toEqual(['field', 'message']);
    const dup = await api('POST', '/v1/auth/signup', {
      body: { name: 'x', email: account.email, password: 'long enough', workspace_name: 'w', timezone: 'UTC' },
    });
    expectError(dup, 409, 'conflict');
  });
});

describe('the OpenAPI document and interactive docs (README.md, Start it)', () => {
  it('serves an OpenAPI 3.1 document covering the endpoints', async () => {
    const res = await api('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/json/);
    expect(res.body.openapi).toMatch(/^3\.1/);
    const paths = Object.keys(res.body.paths);
    for (const p of [
      '/v1/jobs',
      '/v1/jobs/{id}',
      '/v1/jobs/{id}/run-now',
      '/v1/jobs/{id}/pause',
      '/v1/jobs/{id}/resume',
      '/v1/jobs/{id}/executions',
      '/v1/executions',
      '/v1/executions/{id}',
      '/v1/auth/signup',
      '/v1/auth/login',
      '/v1/api-tokens',
    ]) {
      expect(paths).toContain(p);
    }
    expect(Object.keys(res.body.paths['/v1/jobs'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(res.body.paths['/v1/jobs/{id}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    const schemas = res.body.components.schemas;
    expect(schemas.CreateJobDto).toBeDefined();
    expect(Object.keys(schemas.CreateJobDto.properties)).toEqual(expect.arrayContaining(['name', 'kind', 'request', 'retry_policy']));
  });

  it('serves interactive docs at /docs', async () => {
    const res = await api('GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.text).toMatch(/<html/i);
  });

  it('answers /healthz and /readyz without a token', async () => {
    const health = await api('GET', '/healthz');
    expect(health.status).toBe(200);
    const ready = await api('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual(expect.objectContaining({ nats: 'up', postgres: 'up', redis: 'up' }));
  });
});
