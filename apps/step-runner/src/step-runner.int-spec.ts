import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobSnapshot } from '@trigrun/execution-contracts';
import { ExecutionStore, launchExecution } from '@trigrun/execution-store';
import { closeMessaging, connectMessaging, type Messaging } from '@trigrun/messaging';
import { ensureBuilt, freePort, startService, waitUntil } from './testing/service-process';
import { declareStepRunnerTopology } from './topology';

/**
 * The real step-runner process against the real NATS: killed with SIGKILL while a request is in
 * flight, then restarted. The execution must still end, with exactly one attempt record.
 */
const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';

jest.setTimeout(90_000);

describe('step-runner under kill -9', () => {
  const namespace = `it${randomBytes(4).toString('hex')}`;
  let messaging: Messaging;
  let store: ExecutionStore;
  let target: Server;
  let targetUrl: string;
  const received: string[] = [];
  const flaky: number[] = [];
  let holdFirst = true;
  const runners: ChildProcess[] = [];

  beforeAll(async () => {
    ensureBuilt('step-runner');
    messaging = await connectMessaging(NATS_URL, 'step-runner-int-spec');
    await declareStepRunnerTopology(messaging.jsm, { namespace, replicas: 1, ackWaitMs: 2_000, retentionDays: 1 });
    store = new ExecutionStore(messaging.js, messaging.jsm, namespace);
    target = createServer((req, res) => {
      if (req.url === '/flaky') {
        flaky.push(Date.now());
        req.resume();
        // The first request of the flaky endpoint fails with a retryable status.
        res.writeHead(flaky.length === 1 ? 503 : 200).end();
        return;
      }
      received.push(String(req.headers['x-cron-service-execution-id']));
      req.resume();
      // The first request hangs: the runner is killed while it is in flight.
      if (holdFirst && received.length === 1) return;
      res.writeHead(200).end('done');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const r of runners) if (r.exitCode === null) r.kill('SIGKILL');
    target.closeAllConnections();
    await new Promise((resolve) => target.close(resolve));
    for await (const s of messaging.jsm.streams.list()) {
      if (s.config.name.startsWith(`${namespace.toUpperCase()}_`)) await messaging.jsm.streams.delete(s.config.name);
    }
    await closeMessaging(messaging);
  });

  async function startRunner(): Promise<ChildProcess> {
    const child = await startService('step-runner', await freePort(), {
      TRIGRUN_NAMESPACE: namespace,
      TRIGRUN_NATS_URL: NATS_URL,
      TRIGRUN_DATABASE_URL: process.env.TRIGRUN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      TRIGRUN_ACK_WAIT_MS: '2000',
      TRIGRUN_OUTBOUND_ALLOWLIST: '127.0.0.1/32',
      TRIGRUN_MASTER_KEY: randomBytes(32).toString('base64'),
    });
    runners.push(child);
    return child;
  }

  const job = (): JobSnapshot => ({
    name: 'kill-test',
    kind: 'one_time',
    request: { url: `${targetUrl}/slow`, method: 'GET', headers: {}, timeout_seconds: 60, success_statuses: [200] },
    retry_policy: { max_attempts: 3, retry_on_statuses: [503] },
  });

  async function launch(snapshot: JobSnapshot = job()) {
    const queued = await launchExecution(store, { workspaceId: 'ws_it', jobId: 'job_it', trigger: 'manual', job: snapshot }, () => new Date());
    return queued.execution_id;
  }

  async function settled(executionId: string) {
    return waitUntil(async () => {
      const loaded = await store.load(executionId);
      return loaded.state.status === 'succeeded' || loaded.state.status === 'failed' ? loaded : undefined;
    }, 30_000);
  }

  it('finishes an execution whose runner was killed mid-request, without duplicating its attempt', async () => {
    const runner = await startRunner();
    const executionId = await launch();
    await waitUntil(async () => received.length === 1, 15_000);
    runner.kill('SIGKILL');
    await new Promise((resolve) => runner.once('exit', resolve));
    holdFirst = false;

    await startRunner();
    const loaded = await settled(executionId);

    expect(loaded.state.status).toBe('succeeded');
    const attempts = loaded.events.filter((e) => e.type === 'AttemptRecorded');
    expect(attempts).toHaveLength(1);
    expect(loaded.events.map((e) => e.type)).toEqual(['ExecutionQueued', 'ExecutionStarted', 'AttemptRecorded', 'ExecutionSucceeded']);
    expect(loaded.events.map((e) => e.position)).toEqual([1, 2, 3, 4]);
    // At-least-once towards the target: the cut request was sent again, under the same execution id.
    expect(received).toEqual([executionId, executionId]);
  });

  it('keeps a pending retry across a kill -9 between attempts: the next attempt happens once, on time', async () => {
    for (const r of runners) if (r.exitCode === null) r.kill('SIGKILL');
    const runner = await startRunner();
    const executionId = await launch({ ...job(), request: { ...job().request!, url: `${targetUrl}/flaky` } });
    // Kill as soon as the first attempt (503) is recorded with its retry time, before the retry.
    const firstRecorded = await waitUntil(async () => {
      const loaded = await store.load(executionId);
      return loaded.events.find((e) => e.type === 'AttemptRecorded');
    }, 15_000);
    runner.kill('SIGKILL');
    await new Promise((resolve) => runner.once('exit', resolve));
    expect(flaky).toHaveLength(1);
    const retryAt = (firstRecorded.data as { next_attempt_at: string }).next_attempt_at;
    expect(retryAt).not.toBeNull();

    await startRunner();
    const loaded = await settled(executionId);
    expect(loaded.state.status).toBe('succeeded');
    const attempts = loaded.events.filter((e) => e.type === 'AttemptRecorded').map((e) => (e.data as { attempt: { number: number; status: string } }).attempt);
    expect(attempts.map((a) => [a.number, a.status])).toEqual([
      [1, 'HTTP_ERROR'],
      [2, 'SUCCESS'],
    ]);
    expect(flaky).toHaveLength(2);
    // The second attempt waited for its backoff, even though the runner that scheduled it died.
    expect(flaky[1]).toBeGreaterThanOrEqual(Date.parse(retryAt) - 5);
  });

  it('lets two competing runners finish many executions, each exactly once', async () => {
    await startRunner();
    received.length = 0;
    const ids = await Promise.all(Array.from({ length: 30 }, () => launch()));
    for (const id of ids) {
      const loaded = await settled(id);
      expect(loaded.state.status).toBe('succeeded');
      expect(loaded.events.filter((e) => e.type === 'AttemptRecorded')).toHaveLength(1);
      expect(loaded.events.filter((e) => e.type === 'ExecutionSucceeded')).toHaveLength(1);
    }
    // One request per execution: neither runner sent one twice (the start and its first attempt
    // come from the same delivery; the ExecutionStarted delivery leaves the attempt alone).
    expect([...received].sort()).toEqual([...ids].sort());
  });
});
