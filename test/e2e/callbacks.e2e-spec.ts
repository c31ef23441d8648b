import { api, eventually, signup, startTarget } from './support/client';

describe('success and failure callbacks', () => {
  it('POSTs the execution result to on_success_url, and to on_failure_url when the run fails', async () => {
    const target = await startTarget();
    const hooks = await startTarget();
    try {
      const account = await signup('callbacks');
      target.respondWith({ status: 200, body: 'fine' });
      const ok = await api('POST', '/v1/jobs', {
        token: account.token,
        body: { name: 'cb-ok', kind: 'one_time', request: { url: `${target.url}/ok` }, on_success_url: `${hooks.url}/success`, on_failure_url: `${hooks.url}/failure` },
      });
      expect(ok.status).toBe(201);
      const success = await eventually(async () => hooks.received.find((r) => r.url === '/success'), 15_000, 'the success callback');
      const body = JSON.parse(success.body);
      expect(body).toMatchObject({ event: 'execution.succeeded', execution: { job_id: ok.body.id, status: 'succeeded', error: null } });
      expect(body.execution.id).toMatch(/^exec_/);
      expect(success.headers['content-type']).toBe('application/json');

      const failing = await api('POST', '/v1/jobs', {
        token: account.token,
        body: {
          name: 'cb-fail',
          kind: 'one_time',
          request: { url: `${target.url}/missing`, success_statuses: [201] },
          on_success_url: `${hooks.url}/success`,
          on_failure_url: `${hooks.url}/failure`,
        },
      });
      const failure = await eventually(async () => hooks.received.find((r) => r.url === '/failure'), 15_000, 'the failure callback');
      expect(JSON.parse(failure.body)).toMatchObject({
        event: 'execution.failed',
        execution: { job_id: failing.body.id, status: 'failed', error: { code: 'http_error' } },
      });
      expect(hooks.received.filter((r) => r.url === '/success')).toHaveLength(1);
    } finally {
      await target.close();
      await hooks.close();
    }
  });
});
