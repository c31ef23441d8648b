import { api, eventually, signup, startTarget, waitForExecution } from './support/client';

describe('POST /v1/executions/:id/replay (docs/executions.md)', () => {
  it('runs an execution again with the same input, as trigger "replay" with replay_of set', async () => {
    const target = await startTarget();
    try {
      const owner = await signup('replay');
      const job = await api('POST', '/v1/jobs', {
        token: owner.token,
        body: { name: 'replayed', kind: 'one_time', request: { url: `${target.url}/again`, method: 'POST', body: 'payload' } },
      });
      const originalId = await eventually(async () => (await api('GET', `/v1/jobs/${job.body.id}/executions`, { token: owner.token })).body.data?.[0]?.id);
      await waitForExecution(owner.token, originalId);

      const replay = await api('POST', `/v1/executions/${originalId}/replay`, { token: owner.token });
      expect(replay.status).toBe(202);
      expect(replay.body).toMatchObject({ status: 'queued', trigger: 'replay', replay_of: originalId, job_id: job.body.id });
      expect(replay.body.id).not.toBe(originalId);

      const done = await waitForExecution(owner.token, replay.body.id);
      expect(done).toMatchObject({ status: 'succeeded', trigger: 'replay', replay_of: originalId });
      expect(target.received.map((r) => [r.method, r.url, r.body])).toEqual([
        ['POST', '/again', 'payload'],
        ['POST', '/again', 'payload'],
      ]);
      expect(target.received[1].headers['x-cron-service-execution-id']).toBe(replay.body.id);
    } finally {
      await target.close();
    }
  });

  it('answers 404 for an unknown execution or one of another workspace', async () => {
    const a = await signup('replay-a');
    const b = await signup('replay-b');
    expect((await api('POST', '/v1/executions/exec_01J0000000000000000000000/replay', { token: a.token })).status).toBe(404);
    expect((await api('POST', '/v1/executions/not-an-id/replay', { token: a.token })).status).toBe(404);
    const target = await startTarget();
    try {
      const job = await api('POST', '/v1/jobs', { token: a.token, body: { name: 'mine', kind: 'one_time', request: { url: target.url } } });
      const id = await eventually(async () => (await api('GET', `/v1/jobs/${job.body.id}/executions`, { token: a.token })).body.data?.[0]?.id);
      const other = await api('POST', `/v1/executions/${id}/replay`, { token: b.token });
      expect(other.status).toBe(404);
      expect(other.body.error.code).toBe('not_found');
    } finally {
      await target.close();
    }
  });
});
