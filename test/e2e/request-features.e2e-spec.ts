import { api, eventually, signup, startTarget, waitForExecution } from './support/client';
import { expectValidation } from './support/fixtures';

async function runOnce(token: string, body: Record<string, unknown>) {
  const created = await api('POST', '/v1/jobs', { token, body: { name: 'feature', kind: 'one_time', ...body } });
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${created.text}`);
  const id = await eventually(async () => (await api('GET', `/v1/jobs/${created.body.id}/executions`, { token })).body.data?.[0]?.id);
  return waitForExecution(token, id);
}

describe('templates (docs/jobs.md)', () => {
  it('renders the execution variables once per execution: identical on every retry', async () => {
    const target = await startTarget();
    try {
      const account = await signup('templates');
      target.respondWith({ status: 503 }, { status: 200, body: 'ok' });
      const execution = await runOnce(account.token, {
        request: {
          url: `${target.url}/t/{{execution_id}}?at={{timestamp}}`,
          method: 'POST',
          headers: { 'X-Request-Id': '{{uuid}}' },
          body: { id: '{{ uuid }}', '{{key}}': 'keys are not rendered' },
        },
      });
      expect(execution.status).toBe('succeeded');
      expect(target.received).toHaveLength(2);
      const [first, second] = target.received;
      expect(first.url).toBe(second.url);
      expect(first.url.startsWith(`/t/${execution.id}?at=`)).toBe(true);
      expect(first.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(second.headers['x-request-id']).toBe(first.headers['x-request-id']);
      expect(JSON.parse(first.body)).toEqual({ id: first.headers['x-request-id'], '{{key}}': 'keys are not rendered' });
      expect(second.body).toBe(first.body);
    } finally {
      await target.close();
    }
  });

  it('rejects unknown variables at create time, naming the field', async () => {
    const account = await signup('templates-bad');
    const res = await api('POST', '/v1/jobs', {
      token: account.token,
      body: { name: 'bad', kind: 'one_time', request: { url: 'https://example.com/{{context.id}}', headers: { 'X-A': '{{nope}}' } } },
    });
    expectValidation(res, 'request.url', 'request.headers.X-A');
    expect((await api('GET', '/v1/jobs', { token: account.token })).body.data).toEqual([]);
  });
});

describe('response matching and output (docs/jobs.md)', () => {
  it('fails an attempt whose response does not match, naming the rule, without retrying', async () => {
    const target = await startTarget();
    try {
      const account = await signup('matcher');
      target.respondWith({ status: 200, body: '{"status":"degraded","count":3}', headers: { 'content-type': 'application/json' } });
      const execution = await runOnce(account.token, {
        request: {
          url: target.url,
          response_matcher: { body_contains: 'status', assertions: [{ source: 'json', path: '$.status', op: 'eq', value: 'ok' }] },
        },
      });
      expect(execution.status).toBe('failed');
      expect(execution.error.code).toBe('match_failed');
      expect(execution.attempts).toHaveLength(1);
      expect(execution.attempts[0]).toMatchObject({ status: 'MATCH_FAILED', statusCode: 200 });
      expect(execution.attempts[0].errorMessage).toContain('$.status eq "ok"');
    } finally {
      await target.close();
    }
  });

  it('succeeds when every rule passes and renders response_output_template into final_output', async () => {
    const target = await startTarget();
    try {
      const account = await signup('output');
      target.respondWith({ status: 200, body: '{"status":"ok","report":{"rows":12}}', headers: { 'content-type': 'application/json', 'x-version': '7' } });
      const execution = await runOnce(account.token, {
        request: {
          url: target.url,
          response_matcher: {
            assertions: [
              { source: 'json', path: '$.report.rows', op: 'gte', value: 10 },
              { source: 'header', name: 'X-Version', op: 'in', value: ['6', '7'] },
              { source: 'status', op: 'eq', value: 200 },
              { source: 'body', op: 'matches', value: '"status":\\s*"ok"' },
            ],
          },
        },
        response_output_template: { rows: '$.report.rows', run: '{{execution_id}}', missing: '$.nope' },
      });
      expect(execution.status).toBe('succeeded');
      expect(execution.final_output).toEqual({ rows: 12, run: execution.id, missing: null });
    } finally {
      await target.close();
    }
  });

  it('rejects malformed matchers, including patterns that could backtrack catastrophically', async () => {
    const account = await signup('matcher-bad');
    const bad = await api('POST', '/v1/jobs', {
      token: account.token,
      body: {
        name: 'bad',
        kind: 'one_time',
        request: { url: 'https://example.com', response_matcher: { assertions: [{ source: 'body', op: 'matches', value: '(a)\\1' }, { source: 'json', op: 'eq' }] } },
      },
    });
    const error = expectValidation(bad);
    expect(error.details.fields.map((f: { field: string }) => f.field).join(' ')).toMatch(/request\.response_matcher\.assertions\[0\]/);
  });
});

describe('secrets (docs/secrets.md)', () => {
  it('substitutes secret:// in header values at send time, and keeps the value out of every record', async () => {
    const target = await startTarget();
    try {
      const account = await signup('secrets');
      const value = 'sk_live_0123456789abcdef';
      const created = await api('POST', '/v1/secrets', { token: account.token, body: { name: 'API_KEY', value } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'API_KEY', environment: 'workspace', key_version: 1 });
      expect(JSON.stringify(created.body)).not.toContain(value);
      expect((await api('POST', '/v1/secrets', { token: account.token, body: { name: 'API_KEY', value: 'another-value' } })).status).toBe(409);
      const list = await api('GET', '/v1/secrets', { token: account.token });
      expect(list.body.data.map((s: { name: string }) => s.name)).toEqual(['API_KEY']);
      expect(JSON.stringify(list.body)).not.toContain(value);

      // The target echoes the key back in its body and a header.
      target.respondWith({ status: 200, body: `you sent ${value}`, headers: { 'x-echo': value } });
      const execution = await runOnce(account.token, {
        request: { url: target.url, headers: { Authorization: 'Bearer secret://API_KEY', 'X-Other': 'secret://MISSING_ONE' } },
      });
      expect(target.received[0].headers.authorization).toBe(`Bearer ${value}`);
      expect(target.received[0].headers['x-other']).toBe('secret://MISSING_ONE');
      expect(execution.status).toBe('succeeded');
      expect(execution.attempts[0].missingSecrets).toEqual(['MISSING_ONE']);
      const record = JSON.stringify(await api('GET', `/v1/executions/${execution.id}`, { token: account.token }));
      expect(record).not.toContain(value);
      expect(execution.attempts[0].bodyPreview).toBe('you sent [redacted]');
      const job = await api('GET', `/v1/jobs/${execution.job_id}`, { token: account.token });
      expect(job.body.request.headers.Authorization).toBe('Bearer secret://API_KEY');

      const removed = await api('DELETE', `/v1/secrets/${created.body.id}`, { token: account.token });
      expect(removed.status).toBe(204);
      expect((await api('GET', '/v1/secrets', { token: account.token })).body.data).toEqual([]);
    } finally {
      await target.close();
    }
  });
});
