import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConsumerRunner, type Messaging, closeMessaging, connectMessaging } from '@trigrun/messaging';
import { ExecutionStore, launchExecution } from '@trigrun/execution-store';
import { engineOn, engineRunner, oneTimeJob, startTarget, waitUntil } from './testing';
import { declareEngineTopology as declareTopology } from './topology';

/**
 * docs/recovery.md, against a real server: the fault run's stuck execution, reproduced on a
 * private nats-server. It acknowledges the starter's AttemptRecorded, then crashes before that
 * reached its disk (its data folder is put back to a copy taken while the append was held), so
 * ExecutionQueued comes back. (The sweeper's spec: apps/scheduler/src/sweeper.int-spec.ts.)
 */
jest.setTimeout(90_000);

const ACK_WAIT_MS = 1_500;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createTcpServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

describe('a broker crash that loses acknowledged appends (private nats-server)', () => {
  const namespace = `rc${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'trigrun-recovery-'));
  const data = join(dir, 'data');
  const snapshot = join(dir, 'snapshot');
  let port: number;
  let nats: ChildProcess | undefined;
  let messaging: Messaging;
  let runner: ConsumerRunner | undefined;
  let target: Awaited<ReturnType<typeof startTarget>>;

  async function startNats() {
    const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', data], { stdio: 'ignore' });
    nats = child;
    await waitUntil(
      () =>
        new Promise<boolean>((resolve) => {
          const probe = connect(port, '127.0.0.1');
          probe.once('connect', () => {
            probe.destroy();
            resolve(true);
          });
          probe.once('error', () => resolve(false));
        }),
      10_000,
      'nats-server to listen',
    );
  }

  async function killNats() {
    const child = nats!;
    child.kill('SIGKILL');
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  }

  beforeAll(async () => {
    port = await freePort();
    await startNats();
    messaging = await connectMessaging(`nats://127.0.0.1:${port}`, 'recovery-int-spec');
    await declareTopology(messaging.jsm, { namespace, replicas: 1, ackWaitMs: ACK_WAIT_MS, retentionDays: 1 });
    target = await startTarget();
  });

  afterAll(async () => {
    await runner?.stop(1_000);
    await closeMessaging(messaging);
    if (nats && nats.exitCode === null) await killNats();
    target.server.closeAllConnections();
    await new Promise((resolve) => target.server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends the execution whose ExecutionQueued comes back after the crash, instead of acking it as stale', async () => {
    const real = new ExecutionStore(messaging.js, messaging.jsm, namespace);
    // The starter's AttemptRecorded waits here while the broker's disk is copied.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let recording = false;
    const store: Pick<ExecutionStore, 'load' | 'execute'> = {
      load: (id) => real.load(id),
      execute: async (identity, command, opts) => {
        if (!opts.loaded || command(opts.loaded.state).type !== 'RecordAttempt' || recording) return real.execute(identity, command, opts);
        recording = true;
        await released;
        const result = await real.execute(identity, command, opts);
        // The server dies right after acknowledging it, before it reached its disk (below: the
        // data folder is put back as it was before this append).
        nats!.kill('SIGKILL');
        return result;
      },
    };
    const engine = engineOn(messaging, store);
    // The server dies before it delivers what it acknowledged last: a delivery of a later event
    // than ExecutionStarted before the crash never reaches the engine (its handler gives up).
    let crashed!: () => void;
    const crash = new Promise<void>((resolve) => (crashed = resolve));
    runner = engineRunner(messaging, namespace, engine, { ackWaitMs: ACK_WAIT_MS, hold: async (msg) => {
      // The stream is this test's own: ExecutionQueued is sequence 1, ExecutionStarted 2.
      if (recording && msg.seq > 2 && nats!.exitCode === null && nats!.signalCode === null) {
        await crash;
        throw new Error('delivered by a server that died');
      }
    } });
    await runner.start();

    const queued = await launchExecution(real, { workspaceId: 'ws_rc', jobId: 'job_rc', trigger: 'manual', job: oneTimeJob(`${target.url}/ok`) }, () => new Date());
    const id = queued.execution_id;
    await waitUntil(async () => recording, 10_000, 'the starter to send its attempt');
    // ExecutionStarted's delivery is acked (it leaves the send to the starter); give the server time to write it all.
    await new Promise((r) => setTimeout(r, 500));
    // A crash here would keep: ExecutionQueued (unacked) and ExecutionStarted.
    nats!.kill('SIGSTOP');
    cpSync(data, snapshot, { recursive: true });
    nats!.kill('SIGCONT');

    release();
    // The server crashes having acknowledged AttemptRecorded and ExecutionSucceeded (and maybe the
    // ack of ExecutionQueued), none of which reached its disk.
    await waitUntil(async () => nats!.exitCode !== null || nats!.signalCode !== null, 15_000, 'the crash');
    crashed();
    expect(target.received).toEqual([id]);
    rmSync(data, { recursive: true, force: true });
    cpSync(snapshot, data, { recursive: true });
    await startNats();
    // ExecutionQueued comes back; the engine's memory still says "succeeded". Before the fix it
    // was acked as stale (or the starter's own ack landed on the restored server), and the
    // execution stayed `running` with nothing pending.
    const ended = await waitUntil(
      async () => {
        const loaded = await real.load(id);
        return loaded.state.status === 'succeeded' ? loaded : undefined;
      },
      20_000,
      'the execution to end again after the crash',
    );
    expect(ended.events.map((e) => e.type)).toEqual(['ExecutionQueued', 'ExecutionStarted', 'AttemptRecorded', 'ExecutionSucceeded']);
    // At least once towards the target: the lost attempt was sent again.
    expect(target.received).toEqual([id, id]);
  });
});

