import { api, eventually, signup, startTarget, waitForExecution } from './support/client';
import { expectValidation } from './support/fixtures';

const request = { url: 'https://example.com/never-called' };

describe('schedules (docs/jobs.md)', () => {
  it('runs a scheduled job once at run_at, then completes it', async () => {
    const target = await startTarget();
    try {
      const account = await signup('scheduled');
      const runAt = new Date(Date.now() + 1_500).toISOString();
      const created = await api('POST', '/v1/jobs', {
        token: account.token,
        body: { name: 'later', kind: 'scheduled', schedule: { run_at: runAt }, request: { url: `${target.url}/at` } },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ state: 'active', schedule: { run_at: runAt }, next_run_at: runAt, last_run_at: null });
      expect(target.received).toHaveLength(0);

      const id = await eventually(async () => (await api('GET', `/v1/jobs/${created.body.id}/executions`, { token: account.token })).body.data?.[0]?.id, 20_000);
      const execution = await waitForExecution(account.token, id);
      expect(execution).toMatchObject({ status: 'succeeded', trigger: 'schedule', scheduled_for: runAt });
      expect(Date.parse(execution.started_at)).toBeGreaterThanOrEqual(Date.parse(runAt));
      const job = await eventually(async () => {
        const res = await api('GET', `/v1/jobs/${created.body.id}`, { token: account.token });
        return res.body.state === 'completed' ? res.body : undefined;
      });
      expect(job).toMatchObject({ next_run_at: null, last_run_at: execution.started_at });
      expect(target.received).toHaveLength(1);
    } finally {
      await target.close();
    }
  });

  it('takes back a run armed ahead of its slot when the job is paused, deleted or changed before the slot', async () => {
    const target = await startTarget();
    try {
      const account = await signup('armed');
      const token = account.token;
      // Inside the scheduler's lookahead (30 s by default): each run is armed (queued) right away.
      const runAt = new Date(Date.now() + 4_000).toISOString();
      const create = async (name: string) =>
        (await api('POST', '/v1/jobs', { token, body: { name, kind: 'scheduled', schedule: { run_at: runAt }, request: { url: `${target.url}/${name}` } } })).body;
      const [paused, deleted, changed] = await Promise.all([create('paused'), create('deleted'), create('changed')]);
      const armedRun = async (jobId: string) =>
        eventually(async () => (await api('GET', `/v1/jobs/${jobId}/executions`, { token })).body.data?.[0], 3_000, `the armed run of ${jobId}`);
      const armed = await Promise.all([paused, deleted, changed].map((job) => armedRun(job.id)));
      for (const run of armed) expect(run).toMatchObject({ status: 'queued', trigger: 'schedule', scheduled_for: runAt, started_at: null });
      // Armed or not, the slot is still the job's next run.
      expect((await api('GET', `/v1/jobs/${changed.id}`, { token })).body.next_run_at).toBe(runAt);

      expect((await api('POST', `/v1/jobs/${paused.id}/pause`, { token })).body).toMatchObject({ state: 'paused', next_run_at: null });
      expect((await api('DELETE', `/v1/jobs/${deleted.id}`, { token })).status).toBe(204);
      const patched = await api('PATCH', `/v1/jobs/${changed.id}`, { token, body: { request: { url: `${target.url}/changed-again` } } });
      expect(patched.body.next_run_at).toBe(runAt);

      // The changed job's slot runs once, with the new definition, under a new id.
      const rerun = await eventually(async () => {
        const runs = (await api('GET', `/v1/jobs/${changed.id}/executions`, { token })).body.data;
        return runs?.length === 1 && runs[0].id !== armed[2].id ? runs[0] : undefined;
      }, 5_000, 'the changed job armed again');
      expect(await waitForExecution(token, rerun.id)).toMatchObject({ status: 'succeeded', scheduled_for: runAt });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(target.received.map((r) => r.url)).toEqual(['/changed-again']);
      // Withdrawn runs never ran: they are not listed and not served.
      expect((await api('GET', `/v1/jobs/${paused.id}/executions`, { token })).body.data).toEqual([]);
      for (const run of armed) expect((await api('GET', `/v1/executions/${run.id}`, { token })).status).toBe(404);
      expect((await api('GET', '/v1/executions', { token })).body.data.map((e: { id: string }) => e.id)).toEqual([rerun.id]);
    } finally {
      await target.close();
    }
  });

  it('computes next_run_at for recurring jobs from creation, and from now on resume', async () => {
    const account = await signup('recurring');
    const created = await api('POST', '/v1/jobs', { token: account.token, body: { name: 'every', kind: 'recurring', schedule: { every_n_minutes: 15 }, request } });
    expect(created.status).toBe(201);
    expect(Date.parse(created.body.next_run_at) - Date.parse(created.body.created_at)).toBe(15 * 60_000);

    const paused = await api('POST', `/v1/jobs/${created.body.id}/pause`, { token: account.token });
    expect(paused.body).toMatchObject({ state: 'paused', next_run_at: null });
    const resumed = await api('POST', `/v1/jobs/${created.body.id}/resume`, { token: account.token });
    expect(resumed.body.state).toBe('active');
    // Still on the creation grid: the first grid point after now.
    expect((Date.parse(resumed.body.next_run_at) - Date.parse(created.body.created_at)) % (15 * 60_000)).toBe(0);
    expect(Date.parse(resumed.body.next_run_at)).toBeGreaterThan(Date.now());

    const patched = await api('PATCH', `/v1/jobs/${created.body.id}`, { token: account.token, body: { schedule: { every_n_minutes: 60 } } });
    expect(patched.status).toBe(200);
    expect((Date.parse(patched.body.next_run_at) - Date.parse(created.body.created_at)) % (60 * 60_000)).toBe(0);
  });

  it('computes cron slots in the job time zone', async () => {
    const account = await signup('cron');
    const created = await api('POST', '/v1/jobs', {
      token: account.token,
      body: { name: 'nightly', kind: 'cron', schedule: { cron: '30 2 * * *', timezone: 'Asia/Kolkata' }, request },
    });
    expect(created.status).toBe(201);
    expect(created.body.schedule).toEqual({ cron: '30 2 * * *', timezone: 'Asia/Kolkata' });
    // 02:30 in Kolkata (UTC+05:30) is 21:00 UTC.
    expect(created.body.next_run_at).toMatch(/T21:00:00\.000Z$/);
    const utc = await api('POST', '/v1/jobs', { token: account.token, body: { name: 'utc', kind: 'cron', schedule: { cron: '*/5 * * * *' }, request } });
    expect(utc.body.schedule.timezone).toBe('UTC');
    expect(new Date(utc.body.next_run_at).getUTCMinutes() % 5).toBe(0);
  });

  it('runs a recurring job on demand without changing its schedule', async () => {
    const target = await startTarget();
    try {
      const account = await signup('run-now');
      const created = await api('POST', '/v1/jobs', { token: account.token, body: { name: 'r', kind: 'recurring', schedule: { every_n_minutes: 30 }, request: { url: target.url } } });
      const queued = await api('POST', `/v1/jobs/${created.body.id}/run-now`, { token: account.token });
      expect(queued.status).toBe(202);
      expect(queued.body).toMatchObject({ trigger: 'manual', scheduled_for: null });
      await waitForExecution(account.token, queued.body.id);
      const job = await api('GET', `/v1/jobs/${created.body.id}`, { token: account.token });
      expect(job.body).toMatchObject({ state: 'active', next_run_at: created.body.next_run_at });
    } finally {
      await target.close();
    }
  });

  it.each([
    ['recurring', { every_n_minutes: 0 }, 'schedule.every_n_minutes'],
    ['recurring', { every_n_minutes: 1441 }, 'schedule.every_n_minutes'],
    ['recurring', undefined, 'schedule'],
    ['cron', { cron: '61 * * * *' }, 'schedule.cron'],
    ['cron', { cron: '* * *' }, 'schedule.cron'],
    ['cron', { cron: '0 0 * * *', timezone: 'Mars/Olympus_Mons' }, 'schedule.timezone'],
    ['scheduled', { run_at: '2020-01-01T00:00:00.000Z' }, 'schedule.run_at'],
    ['scheduled', { run_at: 'tomorrow' }, 'schedule.run_at'],
    ['one_time', { every_n_minutes: 5 }, 'schedule'],
  ])('rejects a %s job with schedule %j, naming %s', async (kind, schedule, field) => {
    const account = await signup('bad-schedule');
    expectValidation(await api('POST', '/v1/jobs', { token: account.token, body: { name: 'bad', kind, schedule, request } }), field);
    expect((await api('GET', '/v1/jobs', { token: account.token })).body.data).toEqual([]);
  });
});
