import { randomBytes } from 'node:crypto';
import { CONSUMERS, type DriveExecution, driveSubjects, executionSubjects, parseDriveExecution } from '@trigrun/execution-contracts';
import { silentExecutions } from '@trigrun/execution-read-model';
import { createScratchDatabase, type ScratchDatabase } from '@trigrun/database/testing';
import { ConsumerRunner, type Messaging, closeMessaging, connectMessaging } from '@trigrun/messaging';
import { ExecutionStore, launchExecution } from '@trigrun/execution-store';
import { ExecutionSweeper, publishDrive } from '@trigrun/execution-coordination';
import { engineOn, engineRunner, oneTimeJob, startTarget, waitUntil } from '@trigrun/execution-engine/testing';
import { declareDriveTopology } from '@trigrun/execution-coordination';
import { declareEngineTopology } from '@trigrun/execution-engine';

/**
 * The sweeper of last resort (docs/recovery.md) on the machine's NATS and a scratch PostgreSQL,
 * with the engine and the drive consumer as the step-runner wires them.
 */
jest.setTimeout(90_000);

const ACK_WAIT_MS = 1_500;
const logger = { error: () => undefined, warn: () => undefined };

describe('the sweeper of last resort (machine NATS, scratch PostgreSQL)', () => {
  const namespace = `sw${randomBytes(4).toString('hex')}`;
  const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';
  const ADMIN_URL = process.env.TRIGRUN_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  let messaging: Messaging;
  let db: ScratchDatabase;
  let store: ExecutionStore;
  let target: Awaited<ReturnType<typeof startTarget>>;
  const runners: ConsumerRunner[] = [];

  beforeAll(async () => {
    messaging = await connectMessaging(NATS_URL, 'sweeper-int-spec');
    const topology = { namespace, replicas: 1, ackWaitMs: ACK_WAIT_MS, retentionDays: 1 };
    await declareEngineTopology(messaging.jsm, topology);
    await declareDriveTopology(messaging.jsm, topology);
    store = new ExecutionStore(messaging.js, messaging.jsm, namespace);
    db = await createScratchDatabase(ADMIN_URL, []);
    target = await startTarget();
  });

  afterAll(async () => {
    for (const r of runners) await r.stop(500);
    for await (const s of messaging.jsm.streams.list()) {
      if (s.config.name.startsWith(`${namespace.toUpperCase()}_`)) await messaging.jsm.streams.delete(s.config.name);
    }
    await closeMessaging(messaging);
    await db?.dispose();
    target.server.closeAllConnections();
    await new Promise((resolve) => target.server.close(resolve));
  });

  /** The read model's row, as the projection leaves it: running, last moved `movedAt`. */
  const row = (id: string, movedAt: Date) =>
    db.sql.query(
      `insert into executions (id, workspace_id, job_id, job_name, kind, status, trigger, queued_at, position, last_seq, updated_at)
       values ($1, 'ws_sw', 'job_sw', 'recovery', 'one_time', 'running', 'manual', $2, 2, 0, $2)`,
      [id, movedAt],
    );

  /** Takes every message of the engine consumer and acks it: whatever drove these executions is gone. */
  async function consumeAway() {
    const consumer = await messaging.js.consumers.get(executionSubjects(namespace).stream, CONSUMERS.stepRunnerEngine);
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 100, expires: 1_000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        m.ack();
      }
      if (got === 0) return;
    }
  }

  it('re-drives an execution left with no driver once past its bound, and leaves a healthy long request alone', async () => {
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    const past = () => tenMinutesAgo;
    // Stuck: queued and started (its starter to send the attempt) ten minutes ago, nothing since.
    const stuck = await launchExecution(store, { workspaceId: 'ws_sw', jobId: 'job_sw', trigger: 'manual', job: oneTimeJob(`${target.url}/ok`) }, past);
    const identity = { executionId: stuck.execution_id, jobId: 'job_sw', workspaceId: 'ws_sw' };
    await store.execute(identity, () => ({ type: 'StartExecution', now: tenMinutesAgo.toISOString(), uuid: 'u-1', firstAttemptByStarter: true }), { now: past });
    await consumeAway();
    await row(stuck.execution_id, tenMinutesAgo);

    // Healthy: a real engine is inside its request (timeout 300 s), started just now.
    const engine = engineOn(messaging, store);
    const engineConsumer = engineRunner(messaging, namespace, engine, { ackWaitMs: ACK_WAIT_MS });
    runners.push(engineConsumer);
    await engineConsumer.start();
    const healthy = await launchExecution(store, { workspaceId: 'ws_sw', jobId: 'job_sw', trigger: 'manual', job: oneTimeJob(`${target.url}/hang`, 300) }, () => new Date());
    await waitUntil(async () => target.received.includes(healthy.execution_id), 10_000, 'the long request to be sent');
    // Its row looks just as old (a projection that lags): only its events tell the sweeper it is fine.
    await row(healthy.execution_id, tenMinutesAgo);

    const issued: DriveExecution[] = [];
    const warnings: Array<{ message: string; meta?: object }> = [];
    const sweeper = (now: () => Date) =>
      new ExecutionSweeper(
        {
          store,
          candidates: (before, limit, cursor) => silentExecutions(db.orm, before, limit, cursor),
          publish: async (command) => {
            issued.push(command);
            return publishDrive(messaging.js, namespace, command);
          },
          now,
          logger: { warn: (message, meta) => warnings.push({ message, meta }) },
        },
        { stallMs: 5_000, ackWaitMs: ACK_WAIT_MS },
      );

    // Within its bound (its request's 5 s timeout, ack_wait and the stall bound after its last event): left alone.
    const early = sweeper(() => new Date(tenMinutesAgo.getTime() + 10_000));
    expect(await early.sweep()).toBe(0);
    expect(early.redrives).toBe(0);

    const a = sweeper(() => new Date());
    const b = sweeper(() => new Date());
    // Two replicas sweep at once: one command, counted once.
    const [fromA, fromB] = await Promise.all([a.sweep(), b.sweep()]);
    expect(fromA + fromB).toBe(1);
    expect(a.redrives + b.redrives).toBe(1);
    expect(new Set(issued.map((c) => c.execution_id))).toEqual(new Set([stuck.execution_id]));
    expect(warnings.find((w) => w.message.includes('re-driven'))?.meta).toMatchObject({ execution_id: stuck.execution_id });

    // The step-runner's drive consumer carries it out: the execution ends.
    const drives = new ConsumerRunner({
      js: messaging.js,
      stream: driveSubjects(namespace).stream,
      durable: CONSUMERS.stepRunnerDrive,
      handler: (msg, ctx) => {
        const command = parseDriveExecution(JSON.parse(new TextDecoder().decode(msg.data)));
        return engine.drive({ executionId: command.execution_id, jobId: command.job_id, workspaceId: command.workspace_id }, ctx);
      },
      concurrency: 4,
      ackWaitMs: ACK_WAIT_MS,
      logger,
    });
    runners.push(drives);
    await drives.start();
    const ended = await waitUntil(
      async () => {
        const loaded = await store.load(stuck.execution_id);
        return loaded.state.status === 'succeeded' ? loaded : undefined;
      },
      15_000,
      'the re-driven execution to end',
    );
    expect(ended.events.map((e) => e.type)).toEqual(['ExecutionQueued', 'ExecutionStarted', 'AttemptRecorded', 'ExecutionSucceeded']);
    expect(target.received.filter((id) => id === stuck.execution_id)).toHaveLength(1);

    // The healthy one was never re-driven, and is still in its one request.
    expect(issued.some((c) => c.execution_id === healthy.execution_id)).toBe(false);
    expect(target.received.filter((id) => id === healthy.execution_id)).toHaveLength(1);
    expect((await store.load(healthy.execution_id)).state.status).toBe('running');
  });
});
