import { randomBytes } from 'node:crypto';
import { createScratchDatabase, type ScratchDatabase, startTcpRelay, type TcpRelay } from '@trigrun/database/testing';
import { ExecutionStore } from '@trigrun/execution-store';
import { JOB_ENTITIES, Job, JobOutbox } from '@trigrun/jobs';
import { closeMessaging, connectMessaging, isMessagingUp, jetStreamManagerWithin, jetStreamWithin, type Messaging } from '@trigrun/messaging';
import { newId } from '@trigrun/util';
import { JobScheduler } from './job-scheduler';
import { executionIdForSlot } from './slot-id';
import { declareExecutionStreams } from '@trigrun/execution-store';

/**
 * The scheduler while NATS stops answering (issue 10), against the real PostgreSQL and NATS, its
 * connection through a TCP relay the test freezes: the claim must not keep the rows it fires
 * locked while it waits for the broker (a PATCH of that job used to wait behind it, holding a
 * gateway connection), and the slot's run is queued exactly once when the broker is back.
 */
const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';
const ADMIN_URL = process.env.TRIGRUN_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const silent = { warn: () => undefined, debug: () => undefined };

describe('JobScheduler while NATS is silent (real PostgreSQL and NATS through a relay)', () => {
  const namespace = `sco${randomBytes(4).toString('hex')}`;
  let db: ScratchDatabase;
  let direct: Messaging;
  let directStore: ExecutionStore;
  let relay: TcpRelay;
  let viaRelay: Messaging;

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, JOB_ENTITIES);
    direct = await connectMessaging(NATS_URL, 'scheduler-outage-spec');
    await declareExecutionStreams(direct.jsm, { namespace, replicas: 1, ackWaitMs: 30_000, retentionDays: 1 });
    directStore = new ExecutionStore(direct.js, direct.jsm, namespace);
    const target = new URL(NATS_URL);
    relay = await startTcpRelay(target.hostname, Number(target.port || 4222));
    viaRelay = await connectMessaging(relay.urlFor(NATS_URL), 'scheduler-outage-spec-relayed');
  });

  afterAll(async () => {
    await relay.restore();
    await closeMessaging(viaRelay);
    await relay.close();
    for await (const s of direct.jsm.streams.list()) {
      if (s.config.name.startsWith(`${namespace.toUpperCase()}_`)) await direct.jsm.streams.delete(s.config.name);
    }
    await closeMessaging(direct);
    await db.dispose();
  });

  it('holds no row lock while the publish waits, and queues the slot once when the broker is back', async () => {
    const workspaceId = `ws_${randomBytes(6).toString('hex')}`;
    await db.sql.query("insert into workspaces (id, name, timezone, created_at) values ($1, 'w', 'UTC', now())", [workspaceId]);
    const now = new Date();
    const slot = new Date(now.getTime() - 1_000);
    const em = db.orm.em.fork();
    const job = em.create(Job, {
      id: newId('job'),
      workspaceId,
      name: 'every minute',
      kind: 'recurring',
      state: 'active',
      schedule: { every_n_minutes: 1 },
      request: { url: 'https://example.com/', method: 'GET', headers: {}, timeout_seconds: 30, success_statuses: [200] },
      retryPolicy: { max_attempts: 1, retry_on_statuses: [] },
      maxConcurrentExecutions: 0,
      createdAt: new Date(now.getTime() - 3_600_000),
      updatedAt: now,
      nextRunAt: slot,
    } as unknown as Job);
    await em.flush();

    const store = new ExecutionStore(jetStreamWithin(viaRelay), await jetStreamManagerWithin(viaRelay), namespace);
    const outbox = new JobOutbox(db.orm, store);
    const scheduler = new JobScheduler(db.orm, store, { batchSize: 50, lookaheadMs: 0, now: () => now, logger: silent }, outbox);
    relay.freeze();
    const tick = scheduler.tick();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // While the scheduler waits for the broker, the row is free: a change of the job would not wait.
    await db.sql.query('begin');
    try {
      await expect(db.sql.query('select id from jobs where id = $1 for update nowait', [job.id])).resolves.toMatchObject({ rowCount: 1 });
    } finally {
      await db.sql.query('rollback');
    }
    expect(await tick).toBe(1);
    expect(await outbox.pending()).toBe(1);
    // Not claimed again while its run waits in the outbox: one run left behind per job, not one per tick.
    expect(await new JobScheduler(db.orm, store, { batchSize: 50, lookaheadMs: 0, now: () => new Date(now.getTime() + 120_000), logger: silent }, outbox).tick()).toBe(0);

    await relay.restore();
    const deadline = Date.now() + 20_000;
    while (!isMessagingUp(viaRelay) || ((await outbox.relay()) >= 0 && (await outbox.pending()) > 0)) {
      if (Date.now() > deadline) throw new Error('the outbox was not emptied');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await directStore.load(executionIdForSlot(job.id, slot, now))).events.map((e) => e.type)).toEqual(['ExecutionQueued']);
  }, 40_000);
});
