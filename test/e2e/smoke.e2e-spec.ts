import { api, eventually, signup, startTarget, waitForExecution } from './support/client';

describe('a one_time job, end to end', () => {
  it('reaches a local target and its execution, with its attempts, is inspectable', async () => {
    const target = await startTarget();
    try {
      const account = await signup('smoke');
      const created = await api('POST', '/v1/jobs', {
        token: account.token,
        body: { name: 'smoke', kind: 'one_time', request: { url: `${target.url}/hook`, method: 'POST', body: { hello: 'world' } } },
      });
      expect(created.status).toBe(201);
      const executionId = await eventually(async () => {
        const list = await api('GET', `/v1/jobs/${created.body.id}/executions`, { token: account.token });
        return list.body.data?.[0]?.id as string | undefined;
      });
      const execution = await waitForExecution(account.token, executionId);
      expect(execution).toMatchObject({ status: 'succeeded', job_id: created.body.id, kind: 'one_time', trigger: 'schedule' });
      expect(execution.attempts).toHaveLength(1);
      expect(execution.attempts[0]).toMatchObject({ number: 1, status: 'SUCCESS', statusCode: 200, bodyPreview: 'ok' });
      expect(target.received).toHaveLength(1);
      expect(target.received[0]).toMatchObject({ method: 'POST', url: '/hook', body: '{"hello":"world"}' });
      expect(target.received[0].headers['x-cron-service-execution-id']).toBe(executionId);
      // The job is completed by the jobs reaction, a consumer of its own: moments after the
      // execution's row says it ended, not in the same transaction (README, "How it fits together").
      const job = await eventually(async () => {
        const r = await api('GET', `/v1/jobs/${created.body.id}`, { token: account.token });
        return r.body.state === 'completed' ? r : undefined;
      });
      expect(job.body.state).toBe('completed');
      expect(job.body.last_run_at).toBe(execution.started_at);
    } finally {
      await target.close();
    }
  });
});
