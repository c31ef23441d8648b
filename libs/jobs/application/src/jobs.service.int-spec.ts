import { randomBytes } from 'node:crypto';
import type { Principal } from '@trigrun/accounts';
import { createScratchDatabase, type ScratchDatabase } from '@trigrun/database/testing';
import { ExecutionStore, launchExecution } from '@trigrun/execution-store';
import { snapshotOf } from '@trigrun/job-domain';
import { closeMessaging, connectMessaging, type Messaging } from '@trigrun/messaging';
import { DomainError, executionIdForSlot } from '@trigrun/util';
import { JOB_ENTITIES, Job } from './index';
import { JobsService } from './jobs.service';
import { declareExecutionStreams } from '@trigrun/execution-store';

/**
 * A change to a job whose next run is already armed (queued ahead of its slot): against the real
 * PostgreSQL and NATS. A request that fails must leave the armed run and the row as they were; one
 * that succeeds takes the armed run back and arms the slot again with the new definition, in the
 * same request.
 */
const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';
const ADMIN_URL = process.env.TRIGRUN_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('JobsService and armed runs (real PostgreSQL and NATS)', () => {
  const namespace = `jsv${randomBytes(4).toString('hex')}`;
  let db: ScratchDatabase;
  let messaging: Messaging;
  let store: ExecutionStore;
  let jobs: JobsService;
  let principal: Principal;

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, JOB_ENTITIES);
    messaging = await connectMessaging(NATS_URL, 'jobs-service-spec');
    await declareExecutionStreams(messaging.jsm, { namespace, replicas: 1, ackWaitMs: 30_000, retentionDays: 1 });
    store = new ExecutionStore(messaging.js, messaging.jsm, namespace);
    jobs = new JobsService(db.orm, store);
    // A failure inside the database after every check passed: what a value PostgreSQL refuses, a
    // lost connection or a constraint would cause. The row is written before anything else, so
    // the request must fail before the armed run is touched.
    await db.sql.query(`
      create function refuse_doomed() returns trigger language plpgsql as $$
      begin
        if new.name = 'doomed' then raise exception 'refused by the test'; end if;
        return new;
      end $$;
      create trigger refuse_doomed before update on jobs for each row execute function refuse_doomed();`);
  });

  beforeEach(async () => {
    const workspaceId = `ws_${randomBytes(6).toString('hex')}`;
    await db.sql.query("insert into workspaces (id, name, timezone, created_at) values ($1, 'w', 'UTC', now())", [workspaceId]);
    principal = { userId: 'usr_test', workspaceId, role: 'owner', via: 'jwt' };
  });

  afterAll(async () => {
    for await (const s of messaging.jsm.streams.list()) {
      if (s.config.name.startsWith(`${namespace.toUpperCase()}_`)) await messaging.jsm.streams.delete(s.config.name);
    }
    await closeMessaging(messaging);
    await db.dispose();
  });

  /**
   * A `scheduled` job whose run_at is 40 s ahead, armed as JobScheduler arms it within its
   * lookahead (its own spec covers that): queued under the slot's id with `scheduled_for` ahead,
   * recorded on the row, next_run_at moved past the slot. (The scheduler lib depends on this one,
   * so it is not used here.)
   */
  async function armedJob() {
    const slot = new Date(Date.now() + 40_000);
    const created = await jobs.create(principal, {
      name: 'nightly',
      kind: 'scheduled',
      schedule: { run_at: slot.toISOString() },
      request: { url: 'https://example.com/hook', method: 'POST', headers: { 'x-a': 'b' } },
    });
    const job = await reload(created.id);
    const executionId = executionIdForSlot(job.id, slot, job.updatedAt);
    const now = new Date();
    await launchExecution(store, { executionId, workspaceId: job.workspaceId, jobId: job.id, trigger: 'schedule', scheduledFor: slot.toISOString(), job: snapshotOf(job) }, () => now);
    await db.sql.query('update jobs set next_run_at = null, launched_at = $2, armed_execution_id = $3, armed_for = $4 where id = $1', [job.id, now, executionId, slot]);
    const row = await reload(created.id);
    expect(row.armedFor).toEqual(slot);
    expect(row.armedExecutionId).toBe(executionIdForSlot(created.id, slot, row.updatedAt));
    return { id: created.id, slot, row };
  }

  const reload = (id: string) => db.orm.em.fork().findOneOrFail(Job, { id });
  const eventsOf = async (executionId: string) => (await store.load(executionId)).events.map((e) => e.type);
  const rowOf = async (id: string) => (await db.sql.query('select * from jobs where id = $1', [id])).rows[0];

  it('leaves the armed run and the row as they were when the PATCH fails in the database', async () => {
    const { id, row } = await armedJob();
    const before = await rowOf(id);
    await expect(jobs.update(principal, id, { name: 'doomed' })).rejects.toThrow(/SQLSTATE P0001, in update "jobs"/);
    expect(await rowOf(id)).toEqual(before);
    // Not withdrawn: it still runs at its slot (it used to be withdrawn while the row rolled back,
    // so the run never happened and next_run_at had already moved past the slot).
    expect(await eventsOf(row.armedExecutionId!)).toEqual(['ExecutionQueued']);
  });

  it('leaves everything as it was when the PATCH is refused, and checks before it changes anything', async () => {
    const { id, row } = await armedJob();
    const before = await rowOf(id);
    const refused = jobs.update(principal, id, { name: 'renamed', request: { headers: { 'x-a': 'caf\u00e9 \u20ac' } } });
    await expect(refused).rejects.toBeInstanceOf(DomainError);
    await expect(refused).rejects.toMatchObject({ code: 'validation_failed' });
    expect(await rowOf(id)).toEqual(before);
    expect(await eventsOf(row.armedExecutionId!)).toEqual(['ExecutionQueued']);
  });

  it('withdraws the armed run and arms the same slot with the new definition in the same request', async () => {
    const { id, slot, row } = await armedJob();
    await jobs.update(principal, id, { name: 'renamed' });
    const after = await reload(id);
    expect(await eventsOf(row.armedExecutionId!)).toEqual(['ExecutionQueued', 'ExecutionWithdrawn']);
    const rearmed = executionIdForSlot(id, slot, after.updatedAt);
    expect(after).toMatchObject({ armedExecutionId: rearmed, armedFor: slot, nextRunAt: null });
    const [queued] = (await store.load(rearmed)).events;
    expect(queued).toMatchObject({ type: 'ExecutionQueued', data: { trigger: 'schedule', scheduled_for: slot.toISOString() } });
    expect(JSON.stringify(queued.data)).toContain('"renamed"');
  });

  it('withdraws the armed run of a paused job only once the pause is written', async () => {
    const { id, row } = await armedJob();
    await jobs.pause(principal, id);
    expect(await eventsOf(row.armedExecutionId!)).toEqual(['ExecutionQueued', 'ExecutionWithdrawn']);
    expect(await reload(id)).toMatchObject({ state: 'paused', armedExecutionId: null, armedFor: null, nextRunAt: null });
  });
});
