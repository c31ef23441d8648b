import { randomBytes } from 'node:crypto';
import { createScratchDatabase, type ScratchDatabase } from '@trigrun/database/testing';
import { executionSubjects } from '@trigrun/execution-contracts';
import { ExecutionStore, launchExecution } from '@trigrun/execution-store';
import { snapshotOf } from '@trigrun/job-domain';
import { JOB_ENTITIES, Job } from '@trigrun/jobs';
import { closeMessaging, connectMessaging, type Messaging } from '@trigrun/messaging';
import { newId } from '@trigrun/util';
import { JobScheduler } from './job-scheduler';
import { executionIdForSlot } from './slot-id';
import { declareExecutionStreams } from '@trigrun/execution-store';

/** The scheduler against the real PostgreSQL and NATS: exactly-once firing, replicas, restarts. */
const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';
const ADMIN_URL = process.env.TRIGRUN_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NOW = new Date('2026-06-01T12:00:00.000Z');
const minutes = (n: number) => n * 60_000;

describe('JobScheduler (real PostgreSQL and NATS)', () => {
  const namespace = `sch${randomBytes(4).toString('hex')}`;
  let db: ScratchDatabase;
  let messaging: Messaging;
  let store: ExecutionStore;
  let workspaceId: string;
  const silent = { warn: () => undefined, debug: () => undefined };
  const replica = (now = NOW, batchSize = 50, lookaheadMs = 0) => new JobScheduler(db.orm, store, { batchSize, lookaheadMs, now: () => now, logger: silent });

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, JOB_ENTITIES);
    messaging = await connectMessaging(NATS_URL, 'job-scheduler-spec');
    await declareExecutionStreams(messaging.jsm, { namespace, replicas: 1, ackWaitMs: 30_000, retentionDays: 1 });
    store = new ExecutionStore(messaging.js, messaging.jsm, namespace);
  });

  beforeEach(async () => {
    workspaceId = `ws_${randomBytes(6).toString('hex')}`;
    await db.sql.query("insert into workspaces (id, name, timezone, created_at) values ($1, 'w', 'UTC', now())", [workspaceId]);
  });

  afterAll(async () => {
    for await (const s of messaging.jsm.streams.list()) {
      if (s.config.name.startsWith(`${namespace.toUpperCase()}_`)) await messaging.jsm.streams.delete(s.config.name);
    }
    await closeMessaging(messaging);
    await db.dispose();
  });

  async function createJob(fields: Partial<Job> & Pick<Job, 'kind' | 'schedule' | 'nextRunAt'>): Promise<Job> {
    const em = db.orm.em.fork();
    const job = em.create(Job, {
      id: newId('job'),
      workspaceId,
      name: 'scheduled',
      state: 'active',
      request: { url: 'https://example.com/', method: 'GET', headers: {}, timeout_seconds: 30, success_statuses: [200] },
      retryPolicy: { max_attempts: 1, retry_on_statuses: [] },
      maxConcurrentExecutions: 0,
      createdAt: new Date(NOW.getTime() - minutes(60)),
      updatedAt: NOW,
      ...fields,
    } as Job);
    await em.flush();
    return job;
  }

  const reload = (id: string) => db.orm.em.fork().findOneOrFail(Job, { id });
  // Every job here is created at NOW (updatedAt) and never changed: its revision is NOW.
  const queuedFor = async (jobId: string, slot: Date) => (await store.load(executionIdForSlot(jobId, slot, NOW))).events;

  it('fires each due slot exactly once with two replicas claiming at the same time', async () => {
    const slot = new Date(NOW.getTime() - 1_000);
    const jobs = await Promise.all(Array.from({ length: 120 }, () => createJob({ kind: 'scheduled', schedule: { run_at: slot.toISOString() }, nextRunAt: slot })));
    const [a, b] = await Promise.all([replica(NOW, 25).tick(), replica(NOW, 25).tick()]);
    expect(a + b).toBe(120);
    for (const job of jobs) {
      const events = await queuedFor(job.id, slot);
      expect(events.map((e) => e.type)).toEqual(['ExecutionQueued']);
      expect(events[0]).toMatchObject({ job_id: job.id, data: { trigger: 'schedule', scheduled_for: slot.toISOString() } });
      // A scheduled job runs once: nothing is due any more.
      expect((await reload(job.id)).nextRunAt).toBeNull();
    }
    expect(await replica().tick()).toBe(0);
  });

  it('fires a slot only once when a scheduler died after publishing and before committing', async () => {
    const slot = new Date(NOW.getTime() - minutes(1));
    const job = await createJob({ kind: 'recurring', schedule: { every_n_minutes: 5 }, nextRunAt: slot });
    // The crashed scheduler's publish: the execution exists, the row still says the slot is due.
    await launchExecution(
      store,
      { executionId: executionIdForSlot(job.id, slot, job.updatedAt), workspaceId, jobId: job.id, trigger: 'schedule', scheduledFor: slot.toISOString(), job: snapshotOf({ ...job, request: job.request! }) },
      () => NOW,
    );
    expect(await replica().tick()).toBe(1);
    expect(await queuedFor(job.id, slot)).toHaveLength(1);
    expect((await reload(job.id)).nextRunAt!.getTime()).toBeGreaterThan(NOW.getTime());
  });

  it('catches up at most once after downtime, then continues on schedule from now', async () => {
    // Every 5 minutes, anchored at creation (NOW - 60 min); the scheduler was down for 27 minutes.
    const firstMissed = new Date(NOW.getTime() - minutes(27));
    const job = await createJob({ kind: 'recurring', schedule: { every_n_minutes: 5 }, nextRunAt: firstMissed });
    expect(await replica().tick()).toBe(1);
    expect(await queuedFor(job.id, firstMissed)).toHaveLength(1);
    // The next slot of the every-5-minutes grid after NOW (NOW - 60 min + 13 × 5 min).
    expect((await reload(job.id)).nextRunAt).toEqual(new Date(NOW.getTime() + minutes(5)));
    expect(await replica().tick()).toBe(0);
    const stream = await messaging.jsm.streams.info(executionSubjects(namespace).stream);
    expect(stream.state.num_subjects).toBeGreaterThan(0);
  });

  it('leaves paused, deleted and not-yet-due jobs alone', async () => {
    const past = new Date(NOW.getTime() - 1_000);
    const paused = await createJob({ kind: 'recurring', schedule: { every_n_minutes: 1 }, nextRunAt: past, state: 'paused' });
    const deleted = await createJob({ kind: 'recurring', schedule: { every_n_minutes: 1 }, nextRunAt: past, deletedAt: NOW });
    const future = await createJob({ kind: 'recurring', schedule: { every_n_minutes: 1 }, nextRunAt: new Date(NOW.getTime() + 1_000) });
    expect(await replica().tick()).toBe(0);
    for (const job of [paused, deleted]) expect(await queuedFor(job.id, past)).toHaveLength(0);
    expect(await queuedFor(future.id, future.nextRunAt!)).toHaveLength(0);
    // Once its time comes, the future job fires: a change of next_run_at needs no restart.
    expect(await replica(new Date(NOW.getTime() + 1_000)).tick()).toBe(1);
  });

  it('fires cron jobs at their next occurrence in their time zone', async () => {
    const slot = new Date('2026-06-01T11:30:00.000Z'); // 13:30 in Berlin (CEST)
    const job = await createJob({ kind: 'cron', schedule: { cron: '30 13 * * *', timezone: 'Europe/Berlin' }, nextRunAt: slot });
    expect(await replica().tick()).toBe(1);
    expect(await queuedFor(job.id, slot)).toHaveLength(1);
    expect((await reload(job.id)).nextRunAt).toEqual(new Date('2026-06-02T11:30:00.000Z'));
  });

  it('fires scheduled workflows with a snapshot of their steps and limits, never a request', async () => {
    const slot = new Date(NOW.getTime() - 1_000);
    const steps = [
      { id: 'call', type: 'http', url: 'https://example.com/', method: 'GET', headers: {}, timeout_seconds: 30, success_statuses: [200], retry_policy: { max_attempts: 1, retry_on_statuses: [] } },
      { id: 'review', type: 'approval', message: 'ok?', timeout_seconds: null, on_timeout: 'reject' },
    ] as Job['steps'];
    const job = await createJob({ kind: 'workflow', request: null, steps, maxConcurrentExecutions: 1, maxWorkflowDurationSeconds: 900, schedule: { every_n_minutes: 5 }, nextRunAt: slot });
    // A workflow without a schedule has no slot: only run-now starts it.
    const unscheduled = await createJob({ kind: 'workflow', request: null, steps, maxConcurrentExecutions: 1, maxWorkflowDurationSeconds: 1800, schedule: null, nextRunAt: null });
    expect(await replica().tick()).toBe(1);
    const [queued] = await queuedFor(job.id, slot);
    expect(queued).toMatchObject({ type: 'ExecutionQueued', job_id: job.id, data: { trigger: 'schedule', scheduled_for: slot.toISOString() } });
    if (queued?.type !== 'ExecutionQueued') throw new Error(`expected ExecutionQueued, got ${queued?.type}`);
    const snapshot = queued.data.job;
    expect(snapshot).toMatchObject({ kind: 'workflow', steps, max_concurrent_executions: 1, max_workflow_duration_seconds: 900 });
    expect(snapshot).not.toHaveProperty('request');
    expect((await reload(job.id)).nextRunAt).toEqual(new Date(NOW.getTime() + minutes(5)));
    expect((await reload(unscheduled.id)).nextRunAt).toBeNull();
  });

  it('skips the slot of a row it cannot snapshot without holding up the other due jobs', async () => {
    const slot = new Date(NOW.getTime() - 1_000);
    const broken = await createJob({ kind: 'workflow', request: null, steps: null, schedule: { every_n_minutes: 5 }, nextRunAt: slot });
    const healthy = await createJob({ kind: 'recurring', schedule: { every_n_minutes: 5 }, nextRunAt: slot });
    const warnings: string[] = [];
    const scheduler = new JobScheduler(db.orm, store, { batchSize: 50, now: () => NOW, logger: { ...silent, warn: (message) => warnings.push(message) } });
    expect(await scheduler.tick()).toBe(2);
    expect(await queuedFor(broken.id, slot)).toHaveLength(0);
    expect(await queuedFor(healthy.id, slot)).toHaveLength(1);
    expect(warnings).toEqual(['job has no usable definition; slot skipped']);
    expect((await reload(broken.id)).nextRunAt!.getTime()).toBeGreaterThan(NOW.getTime());
  });

  it('arms a slot ahead within the lookahead, records the armed run on the row, and holds one armed run per job', async () => {
    const slot = new Date(NOW.getTime() + 20_000);
    const job = await createJob({ kind: 'recurring', schedule: { every_n_minutes: 1 }, nextRunAt: slot, createdAt: new Date(slot.getTime() - minutes(10)) });
    const far = await createJob({ kind: 'recurring', schedule: { every_n_minutes: 5 }, nextRunAt: new Date(NOW.getTime() + 40_000) });
    await replica(NOW, 50, 30_000).tick();
    const [queued] = await queuedFor(job.id, slot);
    expect(queued).toMatchObject({ type: 'ExecutionQueued', data: { scheduled_for: slot.toISOString() } });
    const row = await reload(job.id);
    expect(row).toMatchObject({ armedExecutionId: queued!.execution_id, armedFor: slot, nextRunAt: new Date(slot.getTime() + minutes(1)) });
    expect((await reload(far.id)).armedExecutionId).toBeNull();
    // With a lookahead longer than the interval, the following slot is not armed until the armed one is due.
    // (Counts are not asserted: rows of the other tests share this table.)
    await replica(NOW, 50, minutes(2)).tick();
    expect((await reload(far.id)).armedFor).toEqual(far.nextRunAt);
    expect((await reload(job.id)).armedFor).toEqual(slot);
    expect(await queuedFor(job.id, new Date(slot.getTime() + minutes(1)))).toHaveLength(0);
    await replica(new Date(slot.getTime() + 1), 50, minutes(2)).tick();
    expect(await queuedFor(job.id, new Date(slot.getTime() + minutes(1)))).toHaveLength(1);
    expect((await reload(job.id)).armedFor).toEqual(new Date(slot.getTime() + minutes(1)));
  });

  it('arms a changed job under a new id for the same slot: its revision is part of the slot id', async () => {
    const slot = new Date(NOW.getTime() + 10_000);
    expect(executionIdForSlot('job_a', slot, NOW)).toBe(executionIdForSlot('job_a', slot, new Date(NOW.getTime())));
    expect(executionIdForSlot('job_a', slot, NOW)).not.toBe(executionIdForSlot('job_a', slot, new Date(NOW.getTime() + 1)));
    const job = await createJob({ kind: 'scheduled', schedule: { run_at: slot.toISOString() }, nextRunAt: slot });
    await replica(NOW, 50, 30_000).tick();
    expect((await reload(job.id)).armedExecutionId).toBe(executionIdForSlot(job.id, slot, NOW));
    // A changed row whose slot was put back (JobsService arms it itself; a row left like this is armed here).
    const changed = new Date(NOW.getTime() + 1_000);
    await db.sql.query('update jobs set updated_at = $2, next_run_at = $3, armed_execution_id = null, armed_for = null where id = $1', [job.id, changed, slot]);
    await replica(changed, 50, 30_000).tick();
    expect((await reload(job.id)).armedExecutionId).toBe(executionIdForSlot(job.id, slot, changed));
    expect(executionIdForSlot(job.id, slot, changed)).not.toBe(executionIdForSlot(job.id, slot, NOW));
  });
});
