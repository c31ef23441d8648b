import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionEvent, ExecutionEventOf, JobSnapshot, StepSpec } from '@trigrun/execution-contracts';
import { type ScratchDatabase, createScratchDatabase } from '@trigrun/database/testing';
import { ExecutionStore, launchExecution, parkTokenAad } from '@trigrun/execution-store';
import { Waitpoints } from '@trigrun/execution-waitpoints';
import { closeMessaging, connectMessaging, type Messaging } from '@trigrun/messaging';
import { SecretCipher } from '@trigrun/secrets';
import { ensureBuilt, freePort, killHard, startService as startProcess, waitUntil } from './testing/service-process';
import { declareStepRunnerTopology } from './topology';

/**
 * Parked workflows against the real step-runner and scheduler processes, NATS and Postgres:
 * resumes that arrive while the step-runner is down, racing resumes, decisions, durable step
 * timeouts across a kill -9 of the scheduler, the workflow deadline and the concurrency cap.
 */
const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';
const ADMIN_DB = process.env.TRIGRUN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

jest.setTimeout(120_000);

describe('parked workflows across restarts', () => {
  const namespace = `wf${randomBytes(4).toString('hex')}`;
  const masterKey = randomBytes(32);
  const cipher = new SecretCipher({ current: { version: 1, key: masterKey }, previous: new Map() });
  let db: ScratchDatabase;
  let messaging: Messaging;
  let store: ExecutionStore;
  let waitpoints: Waitpoints;
  let target: Server;
  let targetUrl: string;
  const received: { path: string; body: string; idempotencyKey: string | undefined }[] = [];
  const children: ChildProcess[] = [];
  let runner: ChildProcess;
  let scheduler: ChildProcess;

  beforeAll(async () => {
    ensureBuilt('step-runner', 'scheduler');
    db = await createScratchDatabase(ADMIN_DB, []);
    messaging = await connectMessaging(NATS_URL, 'workflow-int-spec');
    await declareStepRunnerTopology(messaging.jsm, { namespace, replicas: 1, ackWaitMs: 2_000, retentionDays: 1 });
    store = new ExecutionStore(messaging.js, messaging.jsm, namespace);
    waitpoints = new Waitpoints(store, () => new Date());
    target = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body, idempotencyKey: req.headers['idempotency-key'] as string | undefined });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, path: req.url }));
      });
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    [runner, scheduler] = await Promise.all([startService('step-runner'), startService('scheduler')]);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    target.closeAllConnections();
    await new Promise((resolve) => target.close(resolve));
    for await (const s of messaging.jsm.streams.list()) {
      if (s.config.name.startsWith(`${namespace.toUpperCase()}_`)) await messaging.jsm.streams.delete(s.config.name);
    }
    await closeMessaging(messaging);
    await db.dispose();
  });

  let runnerPort = 0;
  async function startService(app: 'step-runner' | 'scheduler'): Promise<ChildProcess> {
    const port = await freePort();
    if (app === 'step-runner') runnerPort = port;
    const child = await startProcess(app, port, {
      TRIGRUN_NAMESPACE: namespace,
      TRIGRUN_NATS_URL: NATS_URL,
      TRIGRUN_DATABASE_URL: db.url,
      TRIGRUN_ACK_WAIT_MS: '2000',
      TRIGRUN_SCHEDULER_POLL_MS: '100',
      TRIGRUN_OUTBOUND_ALLOWLIST: '127.0.0.1/32',
      TRIGRUN_MASTER_KEY: masterKey.toString('base64'),
    });
    children.push(child);
    return child;
  }

  const kill = killHard;

  const workflow = (steps: StepSpec[], over: Partial<JobSnapshot> = {}): JobSnapshot => ({
    name: 'parked-workflow',
    kind: 'workflow',
    steps,
    retry_policy: { max_attempts: 1, retry_on_statuses: [] },
    max_concurrent_executions: 0,
    max_workflow_duration_seconds: 600,
    ...over,
  });
  const http = (id: string, url: string, body?: unknown): StepSpec => ({
    id,
    type: 'http',
    url,
    method: body === undefined ? 'GET' : 'POST',
    headers: {},
    ...(body !== undefined ? { body } : {}),
    timeout_seconds: 10,
    success_statuses: [200],
    retry_policy: { max_attempts: 1, retry_on_statuses: [] },
  });
  const waitStep = (id: string, over: Partial<StepSpec> = {}): StepSpec =>
    ({ id, type: 'wait_for_webhook', timeout_seconds: null, on_timeout: 'fail', ...over }) as StepSpec;
  const approval = (id: string, over: Partial<StepSpec> = {}): StepSpec =>
    ({ id, type: 'approval', message: 'Ship run {{execution_id}}?', timeout_seconds: null, on_timeout: 'reject', ...over }) as StepSpec;

  async function launch(job: JobSnapshot, jobId = `job_${randomBytes(4).toString('hex')}`) {
    const queued = await launchExecution(store, { workspaceId: 'ws_it', jobId, trigger: 'manual', job }, () => new Date());
    return queued.execution_id;
  }

  const events = async (executionId: string) => (await store.load(executionId)).events;

  /** The token of the execution's current park, opened the way an authorized API reader would. */
  async function parkedToken(executionId: string, stepId: string): Promise<string> {
    const parked = await waitUntil(async () => {
      const found = (await events(executionId)).filter((e): e is ExecutionEventOf<'ExecutionParked'> => e.type === 'ExecutionParked' && e.data.step_id === stepId);
      return found.at(-1);
    }, 20_000);
    const { ciphertext, key_version } = parked.data.token_sealed;
    return cipher.decrypt(ciphertext, key_version, parkTokenAad(executionId, stepId));
  }

  async function ended(executionId: string, timeoutMs = 30_000) {
    return waitUntil(async () => {
      const loaded = await store.load(executionId);
      return loaded.state.status === 'succeeded' || loaded.state.status === 'failed' ? loaded : undefined;
    }, timeoutMs);
  }

  const types = (list: readonly ExecutionEvent[]) => list.map((e) => e.type);

  it('keeps a resume that arrives while the step-runner is down, and continues with its payload once it is back', async () => {
    const executionId = await launch(
      workflow([{ ...waitStep('callback'), extract: { order: '$.order.id' } } as StepSpec, http('notify', `${targetUrl}/notify/{{context.order}}`)]),
    );
    const token = await parkedToken(executionId, 'callback');
    await kill(runner);

    await expect(waitpoints.resume(token, { order: { id: 'A-17' } })).resolves.toEqual({ kind: 'resumed', executionId });
    // Nothing acts while the runner is down; the resume is durably recorded.
    expect(types(await events(executionId))).toContain('ExecutionResumed');

    runner = await startService('step-runner');
    const loaded = await ended(executionId);
    expect(loaded.state.status).toBe('succeeded');
    expect(received.filter((r) => r.path === '/notify/A-17')).toHaveLength(1);
    expect(received.find((r) => r.path === '/notify/A-17')?.idempotencyKey).toBe(`${executionId}:notify`);
    // Dead once its step ended.
    await expect(waitpoints.resume(token, {})).resolves.toEqual({ kind: 'already_completed', executionId });
  });

  it('turns two racing resumes of one token into exactly one continuation', async () => {
    const executionId = await launch(workflow([waitStep('race'), http('after', `${targetUrl}/after-race`)]));
    const token = await parkedToken(executionId, 'race');
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => waitpoints.resume(token, { n: i })));
    expect(outcomes.filter((o) => o.kind === 'resumed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'already_completed')).toHaveLength(7);
    const loaded = await ended(executionId);
    expect(loaded.state.status).toBe('succeeded');
    expect(types(loaded.events).filter((t) => t === 'ExecutionResumed')).toHaveLength(1);
    expect(received.filter((r) => r.path === '/after-race')).toHaveLength(1);
  });

  it('decides an approval once: a second decision is a conflict naming the first; rejection fails the execution', async () => {
    const first = await launch(workflow([approval('review'), http('ship', `${targetUrl}/ship`)]));
    const token = await parkedToken(first, 'review');
    const view = await waitpoints.describe(token);
    expect(view).toMatchObject({ executionId: first, stepId: 'review', state: 'pending', message: expect.stringContaining('Ship') });
    await expect(waitpoints.decide(token, { decision: 'approved', decidedBy: 'alice', comment: 'go' })).resolves.toMatchObject({ kind: 'decided' });
    await expect(waitpoints.decide(token, { decision: 'rejected', decidedBy: 'bob' })).resolves.toMatchObject({
      kind: 'conflict',
      first: { decision: 'approved', decided_by: 'alice' },
    });
    expect((await ended(first)).state.status).toBe('succeeded');

    const second = await launch(workflow([approval('review'), http('ship', `${targetUrl}/never`)]));
    const token2 = await parkedToken(second, 'review');
    await waitpoints.decide(token2, { decision: 'rejected', comment: 'not today' });
    const loaded = await ended(second);
    expect(loaded.state.status).toBe('failed');
    expect(loaded.events.at(-1)).toMatchObject({ type: 'ExecutionFailed', data: { error: { code: 'approval_rejected' } } });
    expect(received.some((r) => r.path === '/never')).toBe(false);
  });

  it('fires a step timeout exactly once although the scheduler was killed -9 while the step was parked', async () => {
    const executionId = await launch(workflow([waitStep('slow', { timeout_seconds: 2, on_timeout: 'continue' } as Partial<StepSpec>), http('then', `${targetUrl}/after-timeout`)]));
    await parkedToken(executionId, 'slow');
    await kill(scheduler);
    await new Promise((r) => setTimeout(r, 2_500));
    // Due while no scheduler ran: the next one fires it.
    scheduler = await startService('scheduler');
    const loaded = await ended(executionId);
    expect(loaded.state.status).toBe('succeeded');
    const resumed = loaded.events.filter((e) => e.type === 'ExecutionResumed');
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toMatchObject({ data: { via: 'timeout' } });
    expect(received.filter((r) => r.path === '/after-timeout')).toHaveLength(1);
  });

  it('fails a parked execution with workflow_timeout at its deadline, whatever it waits for', async () => {
    const executionId = await launch(workflow([approval('forever')], { max_workflow_duration_seconds: 2 }));
    await parkedToken(executionId, 'forever');
    const loaded = await ended(executionId);
    expect(loaded.state.status).toBe('failed');
    expect(types(loaded.events).slice(-2)).toEqual(['StepFailed', 'ExecutionFailed']);
    expect(loaded.events.at(-1)).toMatchObject({ data: { error: { code: 'workflow_timeout' } } });
  });

  it('holds executions over max_concurrent_executions queued and starts them in order as slots free', async () => {
    const jobId = `job_cap_${randomBytes(3).toString('hex')}`;
    const job = workflow([waitStep('gate')], { max_concurrent_executions: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await launch(job, jobId));
    const token0 = await parkedToken(ids[0], 'gate');
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await store.load(ids[1])).state.status).toBe('queued');
    expect((await store.load(ids[2])).state.status).toBe('queued');

    await waitpoints.resume(token0, {});
    const token1 = await parkedToken(ids[1], 'gate');
    expect((await store.load(ids[2])).state.status).toBe('queued');
    await waitpoints.resume(token1, {});
    const token2 = await parkedToken(ids[2], 'gate');
    await waitpoints.resume(token2, {});
    for (const id of ids) expect((await ended(id)).state.status).toBe('succeeded');
    const startedAt = await Promise.all(ids.map(async (id) => (await events(id)).find((e) => e.type === 'ExecutionStarted')!.occurred_at));
    expect([...startedAt].sort()).toEqual(startedAt);
  });

  it('starts a run armed ahead of its slot at the slot; a run withdrawn before its slot never starts and holds no concurrency slot', async () => {
    const jobId = `job_armed_${randomBytes(3).toString('hex')}`;
    const job = workflow([waitStep('gate')], { max_concurrent_executions: 1 });
    const arm = async (slot: Date) =>
      (await launchExecution(store, { workspaceId: 'ws_it', jobId, trigger: 'schedule', scheduledFor: slot.toISOString(), job }, () => new Date())).execution_id;
    const slot = new Date(Date.now() + 1_500);
    const [kept, withdrawn] = [await arm(slot), await arm(slot)];
    const taken = await store.execute({ executionId: withdrawn, jobId, workspaceId: 'ws_it' }, () => ({ type: 'WithdrawExecution', reason: 'job_paused', now: new Date().toISOString() }), {
      now: () => new Date(),
    });
    expect('appended' in taken).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect((await store.load(kept)).state.status).toBe('queued');
    // At its slot (not before), the armed run starts and parks; its slot-mate, withdrawn, stays withdrawn.
    await parkedToken(kept, 'gate');
    const started = (await events(kept)).find((e) => e.type === 'ExecutionStarted')!;
    expect(Date.parse(started.occurred_at)).toBeGreaterThanOrEqual(slot.getTime());
    await new Promise((r) => setTimeout(r, 1_000));
    expect(types(await events(withdrawn))).toEqual(['ExecutionQueued', 'ExecutionWithdrawn']);
    // The withdrawn run's own message came back at the slot and may have taken the free place in
    // line before `kept`: it must have handed it on. The next run starts once `kept` ends.
    const next = await launch(job, jobId);
    await waitpoints.resume(await parkedToken(kept, 'gate'), {});
    await waitpoints.resume(await parkedToken(next, 'gate'), {});
    expect((await ended(next)).state.status).toBe('succeeded');
  });

  it('holds no memory for parked executions: the engine keeps only executions in flight', async () => {
    const ids = await Promise.all(Array.from({ length: 25 }, () => launch(workflow([waitStep('hold')]))));
    for (const id of ids) await parkedToken(id, 'hold');
    let last = '';
    const metrics = await waitUntil(async () => {
      last = await (await fetch(`http://127.0.0.1:${runnerPort}/metrics`)).text();
      return /^trigrun_engine_cached_executions 0$/m.test(last) ? last : undefined;
    }, 10_000).catch(() => last);
    expect(metrics).toMatch(/^trigrun_engine_cached_executions 0$/m);
    expect(metrics).toMatch(/^nodejs_heap_used_bytes \d+$/m);
  });
});
