import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONSUMERS, type JobSnapshot, executionSubjects } from '@trigrun/execution-contracts';
import { ExecutionStore, launchExecution } from '@trigrun/execution-store';
import { createScratchDatabase, type ScratchDatabase } from '@trigrun/database/testing';
import { closeMessaging, connectMessaging, type Messaging } from '@trigrun/messaging';
import { ensureBuilt, freePort, killHard, startService, waitUntil } from './testing/service-process';
import { declareStepRunnerTopology } from './topology';

/**
 * The sweeper of last resort as deployed (docs/recovery.md): the real scheduler finds an execution
 * that nothing drives any more, the real step-runner's drive consumer carries out its
 * DriveExecution, the execution ends, and the scheduler's /metrics counts one re-drive.
 */
const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';
const ADMIN_URL = process.env.TRIGRUN_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

jest.setTimeout(90_000);

describe('re-drive through the scheduler and the step-runner', () => {
  const namespace = `rd${randomBytes(4).toString('hex')}`;
  let messaging: Messaging;
  let db: ScratchDatabase;
  let store: ExecutionStore;
  let target: Server;
  let targetUrl: string;
  const received: string[] = [];
  const services: ChildProcess[] = [];

  beforeAll(async () => {
    ensureBuilt('step-runner', 'scheduler');
    messaging = await connectMessaging(NATS_URL, 'redrive-int-spec');
    await declareStepRunnerTopology(messaging.jsm, { namespace, replicas: 1, ackWaitMs: 2_000, retentionDays: 1 });
    store = new ExecutionStore(messaging.js, messaging.jsm, namespace);
    db = await createScratchDatabase(ADMIN_URL, []);
    target = createServer((req, res) => {
      received.push(String(req.headers['x-cron-service-execution-id']));
      req.resume();
      res.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const s of services) await killHard(s);
    target.closeAllConnections();
    await new Promise((resolve) => target.close(resolve));
    for await (const s of messaging.jsm.streams.list()) {
      if (s.config.name.startsWith(`${namespace.toUpperCase()}_`)) await messaging.jsm.streams.delete(s.config.name);
    }
    await closeMessaging(messaging);
    await db?.dispose();
  });

  const env = () => ({
    TRIGRUN_NAMESPACE: namespace,
    TRIGRUN_NATS_URL: NATS_URL,
    TRIGRUN_DATABASE_URL: db.url,
    TRIGRUN_ACK_WAIT_MS: '2000',
    TRIGRUN_OUTBOUND_ALLOWLIST: '127.0.0.1/32',
    TRIGRUN_MASTER_KEY: randomBytes(32).toString('base64'),
    TRIGRUN_SWEEPER_INTERVAL_MS: '500',
    TRIGRUN_SWEEPER_STALL_MS: '1000',
  });

  it('ends an execution left with no driver, and counts the re-drive on /metrics', async () => {
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    const job: JobSnapshot = {
      name: 'redrive',
      kind: 'one_time',
      request: { url: `${targetUrl}/ok`, method: 'GET', headers: {}, timeout_seconds: 5, success_statuses: [200] },
      retry_policy: { max_attempts: 1, retry_on_statuses: [] },
    };
    const queued = await launchExecution(store, { workspaceId: 'ws_rd', jobId: 'job_rd', trigger: 'manual', job }, () => tenMinutesAgo);
    const id = queued.execution_id;
    await store.execute({ executionId: id, jobId: 'job_rd', workspaceId: 'ws_rd' }, () => ({ type: 'StartExecution', now: tenMinutesAgo.toISOString(), uuid: 'u-1', firstAttemptByStarter: true }), {
      now: () => tenMinutesAgo,
    });
    // Whatever drove it is gone: its messages were taken and acked, as a broker that lost state leaves it.
    const consumer = await messaging.js.consumers.get(executionSubjects(namespace).stream, CONSUMERS.stepRunnerEngine);
    for (let got = -1; got !== 0; ) {
      got = 0;
      for await (const m of await consumer.fetch({ max_messages: 100, expires: 1_000 })) {
        got++;
        m.ack();
      }
    }
    await db.sql.query(
      `insert into executions (id, workspace_id, job_id, job_name, kind, status, trigger, queued_at, position, last_seq, updated_at)
       values ($1, 'ws_rd', 'job_rd', 'redrive', 'one_time', 'running', 'manual', $2, 2, 0, $2)`,
      [id, tenMinutesAgo],
    );

    services.push(await startService('step-runner', await freePort(), env()));
    const schedulerPort = await freePort();
    services.push(await startService('scheduler', schedulerPort, env()));

    const ended = await waitUntil(async () => {
      const loaded = await store.load(id);
      return loaded.state.status === 'succeeded' ? loaded : undefined;
    }, 30_000);
    expect(ended.events.map((e) => e.type)).toEqual(['ExecutionQueued', 'ExecutionStarted', 'AttemptRecorded', 'ExecutionSucceeded']);
    expect(received).toEqual([id]);

    const metrics = await (await fetch(`http://127.0.0.1:${schedulerPort}/metrics`)).text();
    expect(metrics).toContain('# TYPE trigrun_sweeper_redrives_total counter');
    expect(metrics).toMatch(/^trigrun_sweeper_redrives_total 1$/m);
    // Later sweeps find it ended (its row still says running until a projection runs): no second re-drive.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await (await fetch(`http://127.0.0.1:${schedulerPort}/metrics`)).text()).toMatch(/^trigrun_sweeper_redrives_total 1$/m);
    expect(received).toEqual([id]);
  });
});
