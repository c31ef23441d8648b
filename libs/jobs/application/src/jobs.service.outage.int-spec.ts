import { randomBytes } from 'node:crypto';
import type { Principal } from '@trigrun/accounts';
import { createScratchDatabase, type ScratchDatabase, startTcpRelay, type TcpRelay } from '@trigrun/database/testing';
import { ExecutionStore, launchExecution } from '@trigrun/execution-store';
import { executionSubjects } from '@trigrun/execution-contracts';
import { snapshotOf } from '@trigrun/job-domain';
import { closeMessaging, connectMessaging, isMessagingUp, jetStreamManagerWithin, jetStreamWithin, type Messaging } from '@trigrun/messaging';
import { toApiError } from '@trigrun/nest';
import { DomainError, executionIdForSlot } from '@trigrun/util';
import { JOB_ENTITIES, Job } from './index';
import { JobOutbox } from './job-outbox';
import { JobsService } from './jobs.service';
import { declareExecutionStreams } from '@trigrun/execution-store';

/**
 * The jobs API while NATS is away (issue 10): against the real PostgreSQL and NATS, the service's
 * connection going through a TCP relay the test cuts (the server closes: connections refused) or
 * freezes (the server stops answering: only timeouts notice). No transaction may wait for the
 * broker, a request that needs it is refused fast when it is known to be away, and what a
 * committed request left to tell the broker is told once it is back, exactly once.
 */
const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';
const ADMIN_URL = process.env.TRIGRUN_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const until = async (check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const timed = async <T>(work: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> => {
  const started = Date.now();
  try {
    const value = await work;
    return { ms: Date.now() - started, value };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
};

describe('JobsService while NATS is away (real PostgreSQL and NATS through a relay)', () => {
  const namespace = `jso${randomBytes(4).toString('hex')}`;
  const stream = executionSubjects(namespace).stream;
  let db: ScratchDatabase;
  /** The test's own connection, straight to NATS: what it checks is what the server stored. */
  let direct: Messaging;
  let directStore: ExecutionStore;
  let relay: TcpRelay;
  let viaRelay: Messaging;
  let outbox: JobOutbox;
  let jobs: JobsService;
  let principal: Principal;

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, JOB_ENTITIES);
    direct = await connectMessaging(NATS_URL, 'jobs-outage-spec');
    await declareExecutionStreams(direct.jsm, { namespace, replicas: 1, ackWaitMs: 30_000, retentionDays: 1 });
    directStore = new ExecutionStore(direct.js, direct.jsm, namespace);
  });

  beforeEach(async () => {
    const target = new URL(NATS_URL);
    relay = await startTcpRelay(target.hostname, Number(target.port || 4222));
    viaRelay = await connectMessaging(relay.urlFor(NATS_URL), 'jobs-outage-spec-relayed');
    // As the api-gateway wires it: request paths wait at most REQUEST_PATH_TIMEOUT_MS per publish.
    const store = new ExecutionStore(jetStreamWithin(viaRelay), await jetStreamManagerWithin(viaRelay), namespace);
    outbox = new JobOutbox(db.orm, store);
    jobs = new JobsService(db.orm, store, outbox, viaRelay);
    const workspaceId = `ws_${randomBytes(6).toString('hex')}`;
    await db.sql.query("insert into workspaces (id, name, timezone, created_at) values ($1, 'w', 'UTC', now())", [workspaceId]);
    principal = { userId: 'usr_test', workspaceId, role: 'owner', via: 'jwt' };
  });

  afterEach(async () => {
    await relay.restore();
    await closeMessaging(viaRelay);
    await relay.close();
    await db.sql.query('delete from job_outbox');
  });

  afterAll(async () => {
    for await (const s of direct.jsm.streams.list()) {
      if (s.config.name.startsWith(`${namespace.toUpperCase()}_`)) await direct.jsm.streams.delete(s.config.name);
    }
    await closeMessaging(direct);
    await db.dispose();
  });

  const oneTime = (name: string) => ({ name, kind: 'one_time', request: { url: 'https://example.com/hook', method: 'POST' } });
  const count = async (sql: string, params: unknown[] = []) => Number((await db.sql.query(sql, params)).rows[0].n);
  const jobsOf = () => count('select count(*) as n from jobs where workspace_id = $1', [principal.workspaceId]);
  const storedMessages = async () => Number((await direct.jsm.streams.info(stream)).state.messages);
  const eventsOf = async (executionId: string) => (await directStore.load(executionId)).events.map((e) => e.type);

  it('refuses a one_time create at once with 503 unavailable while the broker is known to be away, and changes nothing', async () => {
    await relay.cut();
    await until(() => !isMessagingUp(viaRelay), 5_000, 'the connection to notice the cut');
    const before = await storedMessages();
    const { ms, error } = await timed(jobs.create(principal, oneTime('refused')));
    // A domain refusal (no HTTP in the service); the edge answers it with 503 and Retry-After.
    expect(error).toBeInstanceOf(DomainError);
    expect(toApiError(error)).toMatchObject({ code: 'unavailable', status: 503, headers: { 'retry-after': '5' }, details: { dependency: 'nats' } });
    expect(ms).toBeLessThan(500);
    expect(await jobsOf()).toBe(0);
    expect(await count('select count(*) as n from job_outbox')).toBe(0);
    expect(await storedMessages()).toBe(before);
    // A job that needs no broker is still created: only what needs NATS waits for it.
    await expect(jobs.create(principal, { ...oneTime('draft'), state: 'draft' })).resolves.toMatchObject({ state: 'draft' });
  });

  it('holds no connection while a silent broker is waited for: 20 reads answer while 20 creates wait, and each run is queued exactly once when it is back', async () => {
    const before = await storedMessages();
    relay.freeze();
    const started = Date.now();
    // 20 creates at once against a pool of 10: each used to hold its connection for the publish.
    const creates = Array.from({ length: 20 }, (_, i) => timed(jobs.create(principal, oneTime(`silent-${i}`))));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const reads = await Promise.all(Array.from({ length: 20 }, () => timed(jobs.list(principal, {}, 50))));
    for (const read of reads) {
      expect(read.error).toBeUndefined();
      expect(read.ms).toBeLessThan(1_500);
    }
    const answers = await Promise.all(creates);
    // Committed with their entry: the answer comes within the publish bound, not the broker's outage.
    for (const answer of answers) {
      expect(answer.error).toBeUndefined();
      expect(answer.value).toMatchObject({ kind: 'one_time', state: 'active' });
    }
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(await jobsOf()).toBe(20);
    const left = (await db.sql.query<{ intent: { executionId: string } }>('select intent from job_outbox order by id')).rows.map((r) => r.intent.executionId);
    expect(left).toHaveLength(20);
    expect(await storedMessages()).toBe(before);

    await relay.restore();
    await until(() => isMessagingUp(viaRelay), 10_000, 'the connection to come back');
    await until(async () => (await outbox.relay()) >= 0 && (await outbox.pending()) === 0, 20_000, 'the relay to empty the outbox');
    expect(await storedMessages()).toBe(before + 20);
    for (const executionId of left) expect(await eventsOf(executionId)).toEqual(['ExecutionQueued']);
  }, 40_000);

  it('carries out an entry twice with the effect of once', async () => {
    relay.freeze();
    const created = await jobs.create(principal, oneTime('twice'));
    const [{ intent }] = (await db.sql.query('select intent from job_outbox where job_id = $1', [created.id])).rows;
    await relay.restore();
    await until(() => isMessagingUp(viaRelay), 10_000, 'the connection to come back');
    await until(async () => (await outbox.relay()) >= 0 && (await outbox.pending()) === 0, 20_000, 'the relay');
    // The same entry again (a relay that died after the publish, before it removed the entry).
    await db.sql.query("insert into job_outbox (job_id, intent, created_at) values ($1, $2, now())", [created.id, intent]);
    await until(async () => (await outbox.relay()) >= 0 && (await outbox.pending()) === 0, 20_000, 'the relay');
    expect(await eventsOf(intent.executionId)).toEqual(['ExecutionQueued']);
  }, 40_000);

  /** A scheduled job whose run is armed 40 s (or `aheadMs`) ahead, as JobScheduler arms it (see jobs.service.int-spec.ts). */
  async function armedJob(aheadMs = 40_000) {
    const slot = new Date(Date.now() + aheadMs);
    const created = await jobs.create(principal, { name: 'nightly', kind: 'scheduled', schedule: { run_at: slot.toISOString() }, request: { url: 'https://example.com/hook', method: 'POST' } });
    const job = await db.orm.em.fork().findOneOrFail(Job, { id: created.id });
    const executionId = executionIdForSlot(job.id, slot, job.updatedAt);
    const now = new Date();
    await launchExecution(directStore, { executionId, workspaceId: job.workspaceId, jobId: job.id, trigger: 'schedule', scheduledFor: slot.toISOString(), job: snapshotOf(job) }, () => now);
    await db.sql.query('update jobs set next_run_at = null, launched_at = $2, armed_execution_id = $3, armed_for = $4 where id = $1', [job.id, now, executionId, slot]);
    return { id: created.id, slot, executionId };
  }
  const rowOf = async (id: string) => (await db.sql.query('select * from jobs where id = $1', [id])).rows[0];

  it('refuses a change to a job with an armed run at once while the broker is known to be away, leaving the row and the run as they were', async () => {
    const { id, executionId } = await armedJob();
    const before = await rowOf(id);
    await relay.cut();
    await until(() => !isMessagingUp(viaRelay), 5_000, 'the connection to notice the cut');
    for (const attempt of [() => jobs.update(principal, id, { name: 'renamed' }), () => jobs.pause(principal, id), () => jobs.remove(principal, id)] as (() => Promise<unknown>)[]) {
      const { ms, error } = await timed(attempt());
      expect(error).toBeInstanceOf(DomainError);
      expect(toApiError(error)).toMatchObject({ code: 'unavailable', status: 503 });
      expect(ms).toBeLessThan(500);
    }
    expect(await rowOf(id)).toEqual(before);
    expect(await eventsOf(executionId)).toEqual(['ExecutionQueued']);
    // A job without an armed run needs no broker to change.
    const plain = await jobs.create(principal, { name: 'plain', kind: 'recurring', schedule: { every_n_minutes: 5 }, request: { url: 'https://example.com/', method: 'GET' } });
    await expect(jobs.update(principal, plain.id, { name: 'still works' })).resolves.toMatchObject({ name: 'still works' });
  });

  it('re-arms a changed job once the broker is back: the old run withdrawn first, the new one queued once', async () => {
    const { id, slot, executionId } = await armedJob();
    relay.freeze();
    const { ms, error } = await timed(jobs.update(principal, id, { name: 'renamed' }));
    expect(error).toBeUndefined();
    expect(ms).toBeLessThan(4_000);
    const row = await rowOf(id);
    const replacement = executionIdForSlot(id, slot, row.updated_at);
    expect(row).toMatchObject({ armed_execution_id: replacement, name: 'renamed' });
    expect(await eventsOf(executionId)).toEqual(['ExecutionQueued']);
    await relay.restore();
    await until(() => isMessagingUp(viaRelay), 10_000, 'the connection to come back');
    await until(async () => (await outbox.relay()) >= 0 && (await outbox.pending()) === 0, 20_000, 'the relay');
    expect(await eventsOf(executionId)).toEqual(['ExecutionQueued', 'ExecutionWithdrawn']);
    const [queued, ...more] = (await directStore.load(replacement)).events;
    expect(more).toEqual([]);
    expect(queued).toMatchObject({ type: 'ExecutionQueued', data: { scheduled_for: slot.toISOString() } });
    expect(JSON.stringify(queued.data)).toContain('"renamed"');
  }, 40_000);

  it('leaves the slot to its old run when the broker comes back after the slot: nothing is queued twice and the row names the old run again', async () => {
    const { id, slot, executionId } = await armedJob(1_500);
    relay.freeze();
    await jobs.update(principal, id, { name: 'too late' });
    const replacement = executionIdForSlot(id, slot, (await rowOf(id)).updated_at);
    await until(() => Date.now() > slot.getTime() + 100, 5_000, 'the slot to pass');
    await relay.restore();
    await until(() => isMessagingUp(viaRelay), 10_000, 'the connection to come back');
    await until(async () => (await outbox.relay()) >= 0 && (await outbox.pending()) === 0, 20_000, 'the relay');
    expect(await eventsOf(executionId)).toEqual(['ExecutionQueued']);
    expect(await eventsOf(replacement)).toEqual([]);
    expect(await rowOf(id)).toMatchObject({ armed_execution_id: executionId, armed_for: slot });
  }, 40_000);
});
