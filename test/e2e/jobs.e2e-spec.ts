import { api, eventually, signup, waitForExecution } from './support/client';
import { ISO_MS, allPages, createJob, createJobOk, executionsOf, expectError, expectValidation, firstExecutionId, withTarget } from './support/fixtures';

// The e2e project's `testTimeout` in jest.config.js is not applied per project (Jest reads it
// globally), so the default 5 s would cut runs that wait for retries and timeouts.
jest.setTimeout(60_000);

const jobIdOf = (j: { id: string }) => j.id;

describe('a one_time job with defaults (docs/jobs.md)', () => {
  it('is created with the documented defaults, runs at once and completes', async () => {
    await withTarget(async (target) => {
      const account = await signup('defaults');
      const before = Date.now();
      const res = await createJob(account, { name: 'defaults', request: { url: `${target.url}/d` } });
      expect(res.status).toBe(201);
      const job = res.body;
      expect(job).toMatchObject({
        id: expect.stringMatching(/^job_/),
        name: 'defaults',
        kind: 'one_time',
        state: 'active',
        request: { url: `${target.url}/d`, method: 'GET', headers: {}, timeout_seconds: 30, success_statuses: [200, 201, 202, 204] },
        retry_policy: { max_attempts: 3, retry_on_statuses: [429, 500, 502, 503, 504] },
        max_concurrent_executions: 0,
        next_run_at: null,
        last_run_at: null,
      });
      for (const field of ['id', 'name', 'kind', 'state', 'schedule', 'request', 'retry_policy', 'max_concurrent_executions', 'on_success_url', 'on_failure_url', 'next_run_at', 'last_run_at', 'created_at', 'updated_at']) {
        expect(job).toHaveProperty(field);
      }
      expect(job.on_success_url).toBeNull();
      expect(job.on_failure_url).toBeNull();
      expect(job.created_at).toMatch(ISO_MS);
      expect(job.updated_at).toMatch(ISO_MS);
      expect(Date.parse(job.created_at)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(job.created_at)).toBeLessThanOrEqual(Date.now() + 1000);
      expect((await api('GET', `/v1/jobs/${job.id}`, { token: account.token })).body).toMatchObject({ id: job.id, request: job.request });

      const executionId = await firstExecutionId(account.token, job.id);
      expect(executionId).toMatch(/^exec_/);
      const execution = await waitForExecution(account.token, executionId);
      expect(execution).toMatchObject({
        id: executionId,
        job_id: job.id,
        job_name: 'defaults',
        kind: 'one_time',
        status: 'succeeded',
        trigger: 'schedule',
        error: null,
      });
      for (const field of ['queued_at', 'started_at', 'finished_at']) expect(execution[field]).toMatch(ISO_MS);
      expect(execution.duration_ms).toEqual(expect.any(Number));
      expect(execution.attempts).toEqual([expect.objectContaining({ number: 1, status: 'SUCCESS', statusCode: 200, latencyMs: expect.any(Number), bodyPreview: 'ok' })]);
      expect(target.received).toHaveLength(1);
      expect(target.received[0]).toMatchObject({ method: 'GET', url: '/d' });
      expect(target.received[0].headers['x-cron-service-execution-id']).toBe(executionId);

      const completed = await eventually(async () => {
        const r = await api('GET', `/v1/jobs/${job.id}`, { token: account.token });
        return r.body.state === 'completed' ? r.body : undefined;
      });
      expect(completed.last_run_at).toMatch(ISO_MS);
      expect(completed.next_run_at).toBeNull();
      expect(completed.updated_at).toMatch(ISO_MS);
    });
  });
});

describe('attempts and retries (docs/jobs.md, docs/executions.md)', () => {
  it('retries a 503 and succeeds on the second attempt with the same execution id header', async () => {
    await withTarget(async (target) => {
      target.respondWith({ status: 503, body: 'busy' }, { status: 200, body: 'fine' });
      const account = await signup('retry');
      const job = await createJobOk(account, { request: { url: `${target.url}/r` } });
      const execution = await waitForExecution(account.token, await firstExecutionId(account.token, job.id));
      expect(execution.status).toBe('succeeded');
      expect(execution.attempts).toHaveLength(2);
      expect(execution.attempts[0]).toMatchObject({ number: 1, status: 'HTTP_ERROR', statusCode: 503, bodyPreview: 'busy' });
      expect(execution.attempts[1]).toMatchObject({ number: 2, status: 'SUCCESS', statusCode: 200, bodyPreview: 'fine' });
      expect(target.received).toHaveLength(2);
      const ids = target.received.map((r) => r.headers['x-cron-service-execution-id']);
      expect(ids).toEqual([execution.id, execution.id]);
    });
  });

  it('does not retry a 404 (not in retry_on_statuses) and fails with http_error', async () => {
    await withTarget(async (target) => {
      target.respondWith({ status: 404, body: 'nope' });
      const account = await signup('notfound');
      const job = await createJobOk(account, { request: { url: `${target.url}/missing` } });
      const execution = await waitForExecution(account.token, await firstExecutionId(account.token, job.id));
      expect(execution.status).toBe('failed');
      expect(execution.attempts).toEqual([expect.objectContaining({ number: 1, status: 'HTTP_ERROR', statusCode: 404 })]);
      expect(execution.error).toMatchObject({ code: 'http_error', message: expect.any(String) });
      expect(target.received).toHaveLength(1);
      const finished = await eventually(async () => {
        const r = await api('GET', `/v1/jobs/${job.id}`, { token: account.token });
        return r.body.state === 'completed' ? r.body : undefined;
      });
      expect(finished.last_run_at).toMatch(ISO_MS);
    });
  });

  it('treats a 404 as success when success_statuses says so', async () => {
    await withTarget(async (target) => {
      target.respondWith({ status: 404, body: 'gone, as expected' });
      const account = await signup('ok404');
      const job = await createJobOk(account, { request: { url: `${target.url}/gone`, success_statuses: [404] } });
      expect(job.request.success_statuses).toEqual([404]);
      const execution = await waitForExecution(account.token, await firstExecutionId(account.token, job.id));
      expect(execution.status).toBe('succeeded');
      expect(execution.attempts).toEqual([expect.objectContaining({ number: 1, status: 'SUCCESS', statusCode: 404 })]);
    });
  });

  it('stops after max_attempts: 1 even for a retryable status', async () => {
    await withTarget(async (target) => {
      target.respondWith({ status: 503 });
      const account = await signup('once');
      const job = await createJobOk(account, { request: { url: `${target.url}/once` }, retry_policy: { max_attempts: 1 } });
      expect(job.retry_policy).toEqual({ max_attempts: 1, retry_on_statuses: [429, 500, 502, 503, 504] });
      const execution = await waitForExecution(account.token, await firstExecutionId(account.token, job.id));
      expect(execution.status).toBe('failed');
      expect(execution.attempts).toEqual([expect.objectContaining({ number: 1, status: 'HTTP_ERROR', statusCode: 503 })]);
      expect(execution.error.code).toBe('http_error');
      expect(target.received).toHaveLength(1);
    });
  });

  it('exhausts all attempts (default 3) on a persistent 500', async () => {
    await withTarget(async (target) => {
      target.respondWith({ status: 500, body: 'boom' });
      const account = await signup('exhaust');
      const job = await createJobOk(account, { request: { url: `${target.url}/boom` } });
      const execution = await waitForExecution(account.token, await firstExecutionId(account.token, job.id));
      expect(execution.status).toBe('failed');
      expect(execution.attempts.map((a: { number: number; status: string }) => [a.number, a.status])).toEqual([
        [1, 'HTTP_ERROR'],
        [2, 'HTTP_ERROR'],
        [3, 'HTTP_ERROR'],
      ]);
      expect(execution.error.code).toBe('http_error');
      expect(target.received).toHaveLength(3);
    });
  });

  it('records TIMEOUT attempts when the target is slower than timeout_seconds, retries them, and fails with timeout', async () => {
    await withTarget(async (target) => {
      target.respondWith({ status: 200, body: 'too late', delayMs: 2500 });
      const account = await signup('slow');
      const job = await createJobOk(account, { request: { url: `${target.url}/slow`, timeout_seconds: 1 }, retry_policy: { max_attempts: 2 } });
      const execution = await waitForExecution(account.token, await firstExecutionId(account.token, job.id), undefined, 30_000);
      expect(execution.status).toBe('failed');
      expect(execution.attempts).toHaveLength(2);
      for (const [i, attempt] of execution.attempts.entries()) {
        expect(attempt).toMatchObject({ number: i + 1, status: 'TIMEOUT' });
        expect(attempt.latencyMs).toBeGreaterThanOrEqual(900);
        expect(attempt.latencyMs).toBeLessThan(2500);
      }
      expect(execution.error.code).toBe('timeout');
      expect(target.received).toHaveLength(2);
    });
  });

  it('refuses a private destination before connecting, without retrying', async () => {
    const account = await signup('private');
    // 10.255.255.1 is outside the e2e allow-list: the guard refuses it, no packet leaves.
    const job = await createJobOk(account, { request: { url: 'http://10.255.255.1/' } });
    const execution = await waitForExecution(account.token, await firstExecutionId(account.token, job.id));
    expect(execution.status).toBe('failed');
    expect(execution.attempts).toEqual([expect.objectContaining({ number: 1, status: 'CONNECTION_ERROR', errorClass: 'DestinationBlocked' })]);
    expect(execution.attempts[0].statusCode ?? null).toBeNull();
    expect(execution.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  });
});

describe('what the target receives (docs/jobs.md, the request block)', () => {
  it('sends headers and a string body as-is', async () => {
    await withTarget(async (target) => {
      const account = await signup('raw');
      const raw = 'plain text, {not: json} & ünïcode\n';
      const job = await createJobOk(account, {
        request: { url: `${target.url}/raw?x=1`, method: 'PUT', headers: { 'X-Custom': 'abc 123', 'Content-Type': 'text/plain' }, body: raw },
      });
      const execution = await waitForExecution(account.token, await firstExecutionId(account.token, job.id));
      expect(execution.status).toBe('succeeded');
      expect(target.received).toHaveLength(1);
      const got = target.received[0];
      expect(got).toMatchObject({ method: 'PUT', url: '/raw?x=1', body: raw });
      expect(got.headers['x-custom']).toBe('abc 123');
      expect(got.headers['content-type']).toBe('text/plain');
    });
  });

  it('sends an object body as JSON with content-type application/json', async () => {
    await withTarget(async (target) => {
      const account = await signup('json');
      const body = { order: { id: 42, items: ['a', 'b'] }, ok: true, nothing: null };
      const job = await createJobOk(account, { request: { url: `${target.url}/json`, method: 'POST', body } });
      expect(job.request.body).toEqual(body);
      await waitForExecution(account.token, await firstExecutionId(account.token, job.id));
      expect(target.received).toHaveLength(1);
      expect(target.received[0].method).toBe('POST');
      expect(target.received[0].headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(target.received[0].body)).toEqual(body);
    });
  });

  it('caps bodyPreview at 64 KiB', async () => {
    await withTarget(async (target) => {
      const big = 'x'.repeat(100 * 1024);
      target.respondWith({ status: 200, body: big });
      const account = await signup('big');
      const job = await createJobOk(account, { request: { url: `${target.url}/big` } });
      const execution = await waitForExecution(account.token, await firstExecutionId(account.token, job.id));
      expect(execution.status).toBe('succeeded');
      const preview: string = execution.attempts[0].bodyPreview;
      expect(Buffer.byteLength(preview)).toBeLessThanOrEqual(64 * 1024);
      expect(preview.length).toBeGreaterThan(32 * 1024);
      expect(big.startsWith(preview)).toBe(true);
    });
  });
});

describe('job states (docs/jobs.md)', () => {
  it('a draft is created without executing and runs when resumed', async () => {
    await withTarget(async (target) => {
      const account = await signup('draft');
      const job = await createJobOk(account, { state: 'draft', request: { url: `${target.url}/draft` } });
      expect(job.state).toBe('draft');
      expect((await api('GET', `/v1/jobs/${job.id}/executions`, { token: account.token })).body.data).toEqual([]);

      const resumed = await api('POST', `/v1/jobs/${job.id}/resume`, { token: account.token });
      expect(resumed.status).toBe(200);
      expect(resumed.body).toMatchObject({ id: job.id, state: 'active' });
      const execution = await waitForExecution(account.token, await firstExecutionId(account.token, job.id));
      expect(execution.status).toBe('succeeded');
      // Exactly one execution: the draft never ran on its own.
      expect((await api('GET', `/v1/jobs/${job.id}/executions`, { token: account.token })).body.data).toHaveLength(1);
      expect(target.received.map((r) => r.url)).toEqual(['/draft']);
      await eventually(async () => (await api('GET', `/v1/jobs/${job.id}`, { token: account.token })).body.state === 'completed');
    });
  });

  it('a draft that is paused and then resumed still runs its one execution', async () => {
    await withTarget(async (target) => {
      const account = await signup('draftpause');
      const job = await createJobOk(account, { state: 'draft', request: { url: `${target.url}/dp` } });
      const paused = await api('POST', `/v1/jobs/${job.id}/pause`, { token: account.token });
      expect(paused.status).toBe(200);
      expect(paused.body.state).toBe('paused');
      const resumed = await api('POST', `/v1/jobs/${job.id}/resume`, { token: account.token });
      expect(resumed.status).toBe(200);
      expect(resumed.body.state).toBe('active');
      const execution = await waitForExecution(account.token, await firstExecutionId(account.token, job.id));
      expect(execution.status).toBe('succeeded');
      expect(target.received.map((r) => r.url)).toEqual(['/dp']);
    });
  });

  it('an active job can be paused and resumed', async () => {
    await withTarget(async (target) => {
      // The target holds its answer, so the one_time job is still active while we pause it.
      target.respondWith({ status: 200, body: 'eventually', delayMs: 3000 });
      const account = await signup('pause');
      const job = await createJobOk(account, { request: { url: `${target.url}/p` } });
      const paused = await api('POST', `/v1/jobs/${job.id}/pause`, { token: account.token });
      expect(paused.status).toBe(200);
      expect(paused.body).toMatchObject({ id: job.id, state: 'paused', next_run_at: null });
      expect((await api('GET', `/v1/jobs/${job.id}`, { token: account.token })).body.state).toBe('paused');
      const pausedList = await api('GET', '/v1/jobs?state=paused', { token: account.token });
      expect(pausedList.body.data.map(jobIdOf)).toEqual([job.id]);

      const resumed = await api('POST', `/v1/jobs/${job.id}/resume`, { token: account.token });
      expect(resumed.status).toBe(200);
      expect(resumed.body).toMatchObject({ id: job.id, state: 'active' });

      const execution = await waitForExecution(account.token, await firstExecutionId(account.token, job.id));
      expect(execution.status).toBe('succeeded');
      // Resuming a one_time job that already has its execution does not start a second one.
      expect((await api('GET', `/v1/jobs/${job.id}/executions`, { token: account.token })).body.data).toHaveLength(1);
      expect(target.received).toHaveLength(1);
      await eventually(async () => (await api('GET', `/v1/jobs/${job.id}`, { token: account.token })).body.state === 'completed');
    });
  });

  it('pause, resume and run-now of an unknown job answer 404', async () => {
    const account = await signup('unknown');
    for (const action of ['pause', 'resume', 'run-now']) {
      expectError(await api('POST', `/v1/jobs/job_doesnotexist/${action}`, { token: account.token }), 404, 'not_found');
    }
    expectError(await api('GET', '/v1/jobs/job_doesnotexist', { token: account.token }), 404, 'not_found');
    expectError(await api('GET', '/v1/executions/exec_doesnotexist', { token: account.token }), 404, 'not_found');
  });
});

describe('PATCH /v1/jobs/:id (docs/jobs.md)', () => {
  it('renames, merges request fields key by key, and the job then sends the merged request', async () => {
    await withTarget(async (target) => {
      const account = await signup('patch');
      const job = await createJobOk(account, {
        name: 'before',
        state: 'draft',
        request: { url: `${target.url}/old`, method: 'POST', headers: { 'X-Keep': 'yes' }, body: 'kept body', timeout_seconds: 7, success_statuses: [200] },
        retry_policy: { max_attempts: 2 },
      });
      const res = await api('PATCH', `/v1/jobs/${job.id}`, { token: account.token, body: { name: 'after', request: { url: `${target.url}/new` } } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: job.id,
        name: 'after',
        kind: 'one_time',
        state: 'draft',
        request: { url: `${target.url}/new`, method: 'POST', headers: { 'X-Keep': 'yes' }, body: 'kept body', timeout_seconds: 7, success_statuses: [200] },
        retry_policy: { max_attempts: 2, retry_on_statuses: [429, 500, 502, 503, 504] },
        created_at: job.created_at,
      });
      expect(res.body.updated_at).toMatch(ISO_MS);
      expect(Date.parse(res.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(job.updated_at));
      expect((await api('GET', `/v1/jobs/${job.id}`, { token: account.token })).body).toEqual(res.body);

      expect((await api('POST', `/v1/jobs/${job.id}/resume`, { token: account.token })).status).toBe(200);
      const execution = await waitForExecution(account.token, await firstExecutionId(account.token, job.id));
      expect(execution).toMatchObject({ status: 'succeeded', job_name: 'after' });
      expect(target.received).toHaveLength(1);
      expect(target.received[0]).toMatchObject({ method: 'POST', url: '/new', body: 'kept body' });
      expect(target.received[0].headers['x-keep']).toBe('yes');
    });
  });

  it('refuses a kind change, a state, and invalid request fields with 400, changing nothing', async () => {
    const account = await signup('patchbad');
    const job = await createJobOk(account, { name: 'stable', state: 'draft', request: { url: 'http://127.0.0.1:9/x' } });
    const path = `/v1/jobs/${job.id}`;
    expectValidation(await api('PATCH', path, { token: account.token, body: { kind: 'cron' } }), 'kind');
    expectValidation(await api('PATCH', path, { token: account.token, body: { state: 'active' } }), 'state');
    expectValidation(await api('PATCH', path, { token: account.token, body: { name: 'x', request: { timeout_seconds: 0 } } }), 'request.timeout_seconds');
    expectValidation(await api('PATCH', path, { token: account.token, body: { request: { url: 'ftp://example.com' } } }), 'request.url');
    expectValidation(await api('PATCH', path, { token: account.token, body: { retry_policy: { max_attempts: 11 } } }), 'retry_policy.max_attempts');
    const after = await api('GET', path, { token: account.token });
    expect(after.body).toEqual(job);
  });

  it('answers 404 for an unknown job', async () => {
    const account = await signup('patch404');
    expectError(await api('PATCH', '/v1/jobs/job_doesnotexist', { token: account.token, body: { name: 'x' } }), 404, 'not_found');
  });
});

describe('DELETE /v1/jobs/:id (docs/jobs.md)', () => {
  it('answers 204; the job is gone from GET and the list, its executions stay readable', async () => {
    await withTarget(async (target) => {
      const account = await signup('delete');
      const keep = await createJobOk(account, { name: 'keep', state: 'draft', request: { url: `${target.url}/keep` } });
      const job = await createJobOk(account, { name: 'doomed', request: { url: `${target.url}/doomed` } });
      const executionId = await firstExecutionId(account.token, job.id);
      await waitForExecution(account.token, executionId);

      const res = await api('DELETE', `/v1/jobs/${job.id}`, { token: account.token });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expectError(await api('GET', `/v1/jobs/${job.id}`, { token: account.token }), 404, 'not_found');
      expect((await api('GET', '/v1/jobs', { token: account.token })).body.data.map(jobIdOf)).toEqual([keep.id]);
      expectError(await api('DELETE', `/v1/jobs/${job.id}`, { token: account.token }), 404, 'not_found');
      expectError(await api('POST', `/v1/jobs/${job.id}/run-now`, { token: account.token }), 404, 'not_found');

      const execution = await api('GET', `/v1/executions/${executionId}`, { token: account.token });
      expect(execution.status).toBe(200);
      expect(execution.body).toMatchObject({ id: executionId, job_id: job.id, job_name: 'doomed', status: 'succeeded' });
      const listed = await api('GET', `/v1/executions?job_id=${job.id}`, { token: account.token });
      expect(listed.body.data.map(jobIdOf)).toEqual([executionId]);
    });
  });
});

describe('POST /v1/jobs/:id/run-now (docs/jobs.md)', () => {
  it('answers 202 with the queued execution, which then succeeds', async () => {
    await withTarget(async (target) => {
      const account = await signup('runnow');
      const job = await createJobOk(account, { state: 'draft', request: { url: `${target.url}/now` } });
      const res = await api('POST', `/v1/jobs/${job.id}/run-now`, { token: account.token });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({
        id: expect.stringMatching(/^exec_/),
        job_id: job.id,
        job_name: job.name,
        kind: 'one_time',
        status: 'queued',
        trigger: 'manual',
        queued_at: expect.stringMatching(ISO_MS),
        started_at: null,
        finished_at: null,
        attempts: [],
        error: null,
      });
      const execution = await waitForExecution(account.token, res.body.id);
      expect(execution).toMatchObject({ id: res.body.id, status: 'succeeded', trigger: 'manual' });
      expect(target.received).toHaveLength(1);
      expect(target.received[0].headers['x-cron-service-execution-id']).toBe(res.body.id);
    });
  });

  it('runs a completed one_time job again, as a new execution', async () => {
    await withTarget(async (target) => {
      const account = await signup('again');
      const job = await createJobOk(account, { request: { url: `${target.url}/again` } });
      const firstId = await firstExecutionId(account.token, job.id);
      await waitForExecution(account.token, firstId);
      await eventually(async () => (await api('GET', `/v1/jobs/${job.id}`, { token: account.token })).body.state === 'completed');
      const res = await api('POST', `/v1/jobs/${job.id}/run-now`, { token: account.token });
      expect(res.status).toBe(202);
      expect(res.body.id).not.toBe(firstId);
      expect((await waitForExecution(account.token, res.body.id)).status).toBe('succeeded');
      const all = await executionsOf(account.token, job.id, 2);
      expect(all.map(jobIdOf).sort()).toEqual([firstId, res.body.id].sort());
      expect(target.received).toHaveLength(2);
    });
  });
});

describe('GET /v1/jobs (docs/jobs.md and docs/api-conventions.md)', () => {
  it('filters by state and kind, and pages with limit and cursor without duplicates', async () => {
    await withTarget(async (target) => {
      const account = await signup('listjobs');
      const drafts = [];
      for (let i = 0; i < 5; i++) drafts.push(await createJobOk(account, { name: `draft ${i}`, state: 'draft', request: { url: `${target.url}/d${i}` } }));
      const active = await createJobOk(account, { name: 'runs', request: { url: `${target.url}/runs` } });
      await waitForExecution(account.token, await firstExecutionId(account.token, active.id));
      await eventually(async () => (await api('GET', `/v1/jobs/${active.id}`, { token: account.token })).body.state === 'completed');

      const all = await api('GET', '/v1/jobs', { token: account.token });
      expect(all.status).toBe(200);
      expect(all.body.next_cursor).toBeNull();
      expect(all.body.data.map(jobIdOf).sort()).toEqual([...drafts.map(jobIdOf), active.id].sort());

      const draftList = await api('GET', '/v1/jobs?state=draft', { token: account.token });
      expect(draftList.body.data.map(jobIdOf).sort()).toEqual(drafts.map(jobIdOf).sort());
      const completedList = await api('GET', '/v1/jobs?state=completed', { token: account.token });
      expect(completedList.body.data.map(jobIdOf)).toEqual([active.id]);
      expect((await api('GET', '/v1/jobs?state=active', { token: account.token })).body.data).toEqual([]);
      expect((await api('GET', '/v1/jobs?kind=one_time', { token: account.token })).body.data).toHaveLength(6);
      expect((await api('GET', '/v1/jobs?kind=cron', { token: account.token })).body).toEqual({ data: [], next_cursor: null });
      expect((await api('GET', '/v1/jobs?kind=one_time&state=draft', { token: account.token })).body.data).toHaveLength(5);
      expectValidation(await api('GET', '/v1/jobs?state=sleeping', { token: account.token }), 'state');
      expectValidation(await api('GET', '/v1/jobs?kind=hourly', { token: account.token }), 'kind');

      const { pages, items } = await allPages(account.token, '/v1/jobs', 2);
      expect(pages.map((p) => p.length)).toEqual([2, 2, 2]);
      expect(new Set(items.map(jobIdOf)).size).toBe(6);
      expect(items.map(jobIdOf).sort()).toEqual(all.body.data.map(jobIdOf).sort());
      // The order is stable: pages concatenate to the unpaged list.
      expect(items.map(jobIdOf)).toEqual(all.body.data.map(jobIdOf));

      const draftPages = await allPages(account.token, '/v1/jobs?state=draft', 3);
      expect(draftPages.pages.map((p) => p.length)).toEqual([3, 2]);
      expect(new Set(draftPages.items.map(jobIdOf))).toEqual(new Set(drafts.map(jobIdOf)));
    });
  });

  it('refuses limit=0 and limit=500 with 400', async () => {
    const account = await signup('limits');
    expectValidation(await api('GET', '/v1/jobs?limit=0', { token: account.token }), 'limit');
    expectValidation(await api('GET', '/v1/jobs?limit=500', { token: account.token }), 'limit');
    expectValidation(await api('GET', '/v1/jobs?limit=abc', { token: account.token }), 'limit');
    expect((await api('GET', '/v1/jobs?limit=200', { token: account.token })).status).toBe(200);
    expect((await api('GET', '/v1/jobs?limit=1', { token: account.token })).status).toBe(200);
    expectValidation(await api('GET', '/v1/executions?limit=0', { token: account.token }), 'limit');
    expectValidation(await api('GET', '/v1/executions?limit=500', { token: account.token }), 'limit');
  });
});

describe('list cursors', () => {
  it('answers 400 naming cursor for a cursor the platform never issued', async () => {
    const account = await signup('badcursor');
    for (const path of ['/v1/jobs', '/v1/executions']) {
      expectValidation(await api('GET', `${path}?cursor=${encodeURIComponent('%%not-a-cursor%%')}`, { token: account.token }), 'cursor');
    }
  });
});

describe('GET /v1/executions (docs/executions.md)', () => {
  it('answers 400 naming from/to when they are not timestamps', async () => {
    const account = await signup('baddates');
    expectValidation(await api('GET', '/v1/executions?from=yesterday', { token: account.token }), 'from');
    expectValidation(await api('GET', '/v1/executions?to=not-a-date', { token: account.token }), 'to');
  });

  it('filters by status, job_id, job_name, from and to, and pages without duplicates', async () => {
    await withTarget(async (okTarget) => {
      await withTarget(async (badTarget) => {
        badTarget.respondWith({ status: 404 });
        const account = await signup('listexec');
        const t = account.token;
        const start = new Date(Date.now() - 60_000).toISOString();
        const good = await createJobOk(account, { name: 'good job', request: { url: `${okTarget.url}/good` } });
        const bad = await createJobOk(account, { name: 'bad job', request: { url: `${badTarget.url}/bad` }, retry_policy: { max_attempts: 1 } });
        const good1 = await firstExecutionId(t, good.id);
        const badId = await firstExecutionId(t, bad.id);
        const run = await api('POST', `/v1/jobs/${good.id}/run-now`, { token: t });
        expect(run.status).toBe(202);
        const good2 = run.body.id;
        for (const id of [good1, good2, badId]) await waitForExecution(t, id);
        const end = new Date(Date.now() + 60_000).toISOString();

        const ids = async (query: string) => {
          const res = await api('GET', `/v1/executions${query}`, { token: t });
          expect(res.status).toBe(200);
          return (res.body.data as Array<{ id: string }>).map(jobIdOf).sort();
        };
        expect(await ids('')).toEqual([good1, good2, badId].sort());
        expect(await ids('?status=succeeded')).toEqual([good1, good2].sort());
        expect(await ids('?status=failed')).toEqual([badId]);
        expect(await ids('?status=queued')).toEqual([]);
        expect(await ids(`?job_id=${good.id}`)).toEqual([good1, good2].sort());
        expect(await ids(`?job_id=${bad.id}&status=succeeded`)).toEqual([]);
        expect(await ids(`?job_name=${encodeURIComponent('bad job')}`)).toEqual([badId]);
        expect(await ids(`?from=${encodeURIComponent(start)}&to=${encodeURIComponent(end)}`)).toEqual([good1, good2, badId].sort());
        expect(await ids(`?from=${encodeURIComponent(end)}`)).toEqual([]);
        expect(await ids(`?to=${encodeURIComponent(start)}`)).toEqual([]);
        expectValidation(await api('GET', '/v1/executions?status=done', { token: t }), 'status');

        const all = await api('GET', '/v1/executions', { token: t });
        const { pages, items } = await allPages(t, '/v1/executions', 1);
        expect(pages.map((p) => p.length)).toEqual([1, 1, 1]);
        expect(new Set(items.map(jobIdOf)).size).toBe(3);
        expect(items.map(jobIdOf)).toEqual(all.body.data.map(jobIdOf));
        const jobPages = await allPages(t, `/v1/jobs/${good.id}/executions`, 1);
        expect(jobPages.items.map(jobIdOf).sort()).toEqual([good1, good2].sort());
      });
    });
  });
});
