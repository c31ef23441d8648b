import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ScratchDatabase, createScratchDatabase } from '@trigrun/database/testing';
import { CONSUMERS, type ExecutionEventOf, type JobSnapshot, MAX_STORED_JSON_DEPTH, type StepSpec, executionSubjects, jsonDepth } from '@trigrun/execution-contracts';
import { ExecutionStore, launchExecution, parkTokenAad } from '@trigrun/execution-store';
import { Waitpoints } from '@trigrun/execution-waitpoints';
import { type ExecutionApi, ExecutionProjector, ExecutionQueries, declareReadModelTopology } from '@trigrun/execution-read-model';
import { ConsumerRunner, closeMessaging, connectMessaging, type Messaging } from '@trigrun/messaging';
import { SecretCipher } from '@trigrun/secrets';
import { ensureBuilt, freePort, startService, waitUntil } from './testing/service-process';
import { declareStepRunnerTopology } from './topology';

/**
 * Hostile third-party data through the real step-runner and trigger-ingest processes, NATS and
 * PostgreSQL, with the read model projected by the api-gateway's projector from the same stream
 * (docs/third-party-data.md): NUL and lone surrogates in what a step extracts or a resume carries,
 * 20,000-deep JSON, and a response too large to record. Each execution must end — in the engine
 * and in the read model — with exactly the requests max_attempts allows.
 */
const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';
const ADMIN_DB = process.env.TRIGRUN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

jest.setTimeout(120_000);

const DEPTH = 20_000;
const deepArrays = '['.repeat(DEPTH) + ']'.repeat(DEPTH);
const deepObjects = '{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH);
/** Escapes as a target writes them: the parsed strings hold NUL and unpaired surrogates. */
const DIRTY_JSON = '{"order":{"id":"A\\u0000B"},"lone":"x\\ud800","k\\u0000ey":{"v":"\\udc00","ok":"\\ud83d\\ude00"}}';
/** About 1 MB of JSON escapes: within the response limit, but twice extracted it outgrows a message. */
const HUGE_JSON = `{"blob":"${'\\u0001'.repeat(170_000)}"}`;

describe('third-party data never wedges an execution or its read model', () => {
  const namespace = `pz${randomBytes(4).toString('hex')}`;
  const masterKey = randomBytes(32);
  const cipher = new SecretCipher({ current: { version: 1, key: masterKey }, previous: new Map() });
  const workspaceId = `ws_${randomBytes(6).toString('hex')}`;
  let db: ScratchDatabase;
  let messaging: Messaging;
  let store: ExecutionStore;
  let queries: ExecutionQueries;
  let projection: ConsumerRunner;
  let projector: ExecutionProjector;
  let target: Server;
  let targetUrl: string;
  let ingestUrl: string;
  const hits = new Map<string, number>();
  const children: ChildProcess[] = [];
  const projectionErrors: string[] = [];

  beforeAll(async () => {
    ensureBuilt('step-runner', 'trigger-ingest');
    db = await createScratchDatabase(ADMIN_DB, []);
    await db.sql.query("insert into workspaces (id, name, created_at) values ($1, 'poison', now())", [workspaceId]);
    messaging = await connectMessaging(NATS_URL, 'poison-int-spec');
    const topology = { namespace, replicas: 1, ackWaitMs: 2_000, retentionDays: 1 };
    await declareStepRunnerTopology(messaging.jsm, topology);
    await declareReadModelTopology(messaging.jsm, topology);
    store = new ExecutionStore(messaging.js, messaging.jsm, namespace);
    queries = new ExecutionQueries(db.orm);
    target = createServer((req, res) => {
      const path = req.url ?? '';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      req.resume();
      const body = path === '/dirty' ? DIRTY_JSON : path === '/deep-arrays' ? deepArrays : path === '/deep-objects' ? deepObjects : path === '/huge' ? HUGE_JSON : '{}';
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    const env = {
      TRIGRUN_NAMESPACE: namespace,
      TRIGRUN_NATS_URL: NATS_URL,
      TRIGRUN_DATABASE_URL: db.url,
      TRIGRUN_ACK_WAIT_MS: '2000',
      TRIGRUN_OUTBOUND_ALLOWLIST: '127.0.0.1/32',
      TRIGRUN_MASTER_KEY: masterKey.toString('base64'),
    };
    const [runnerPort, ingestPort] = [await freePort(), await freePort()];
    children.push(await startService('step-runner', runnerPort, env), await startService('trigger-ingest', ingestPort, env));
    ingestUrl = `http://127.0.0.1:${ingestPort}`;
    // The read model as the api-gateway runs it: the same durable consumer, batches, projector.
    projector = new ExecutionProjector(db.orm, { onFailure: (f) => projectionErrors.push(`${f.eventType}: ${f.reason}`) });
    projection = new ConsumerRunner({
      js: messaging.js,
      stream: executionSubjects(namespace).stream,
      durable: CONSUMERS.apiGatewayReadModel,
      concurrency: 1,
      ackWaitMs: 2_000,
      handler: (msg, ctx) => projector.handle(msg, ctx.deliveryCount),
      batch: { maxBatch: 256, handler: (deliveries) => projector.handleBatch(deliveries) },
      logger: { error: (m, meta) => projectionErrors.push(`${m} ${JSON.stringify(meta)}`), warn: () => undefined },
    });
    await projection.start();
  });

  afterAll(async () => {
    await projection?.stop(1_000);
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    target?.closeAllConnections();
    await new Promise((resolve) => target?.close(resolve));
    for await (const s of messaging.jsm.streams.list()) {
      if (s.config.name.startsWith(`${namespace.toUpperCase()}_`)) await messaging.jsm.streams.delete(s.config.name);
    }
    await closeMessaging(messaging);
    await db?.dispose();
  });

  async function newJob(): Promise<string> {
    const id = `job_${randomBytes(6).toString('hex')}`;
    await db.sql.query(
      `insert into jobs (id, workspace_id, name, kind, state, retry_policy, max_concurrent_executions, created_at, updated_at)
       values ($1, $2, 'poison', 'workflow', 'active', '{"max_attempts":1,"retry_on_statuses":[]}', 0, now(), now())`,
      [id, workspaceId],
    );
    return id;
  }

  const workflow = (steps: StepSpec[]): JobSnapshot => ({
    name: 'poison',
    kind: 'workflow',
    steps,
    retry_policy: { max_attempts: 1, retry_on_statuses: [] },
    max_concurrent_executions: 0,
    max_workflow_duration_seconds: 600,
  });
  const http = (id: string, path: string, over: Partial<StepSpec> = {}): StepSpec =>
    ({
      id,
      type: 'http',
      url: `${targetUrl}${path}`,
      method: 'GET',
      headers: {},
      timeout_seconds: 10,
      success_statuses: [200],
      retry_policy: { max_attempts: 1, retry_on_statuses: [500] },
      ...over,
    }) as StepSpec;

  async function launch(job: JobSnapshot, jobId?: string): Promise<string> {
    const queued = await launchExecution(store, { workspaceId, jobId: jobId ?? (await newJob()), trigger: 'manual', job }, () => new Date());
    return queued.execution_id;
  }

  /** The execution as the API serves it, once the read model shows it ended. */
  function servedEnd(executionId: string): Promise<ExecutionApi> {
    return waitUntil(async () => {
      const served = await queries.get(workspaceId, executionId);
      return served && (served.status === 'succeeded' || served.status === 'failed') ? served : undefined;
    }, 30_000);
  }

  async function engineEnd(executionId: string) {
    return waitUntil(async () => {
      const loaded = await store.load(executionId);
      return loaded.state.status === 'succeeded' || loaded.state.status === 'failed' ? loaded : undefined;
    }, 30_000);
  }

  /** Past two ack waits: a delivery the engine failed on would have come back and sent again by now. */
  const settleRedeliveries = () => new Promise((r) => setTimeout(r, 4_500));

  async function resumeToken(executionId: string, stepId: string): Promise<string> {
    const parked = await waitUntil(async () => {
      const events = (await store.load(executionId)).events;
      return events.find((e): e is ExecutionEventOf<'ExecutionParked'> => e.type === 'ExecutionParked' && e.data.step_id === stepId);
    }, 20_000);
    return cipher.decrypt(parked.data.token_sealed.ciphertext, parked.data.token_sealed.key_version, parkTokenAad(executionId, stepId));
  }

  it('a step that extracts NUL and lone surrogates from a target ends, in the engine, the context store and the read model', async () => {
    const jobId = await newJob();
    const executionId = await launch(
      workflow([
        http('fetch', '/dirty', {
          extract: { order: '$.order.id', lone: '$.lone', whole: '$' },
          extract_to_context: { saved: '$.order.id' },
        } as Partial<StepSpec>),
      ]),
      jobId,
    );
    const served = await servedEnd(executionId);
    expect(served.status).toBe('succeeded');
    expect(served.projection_error).toBeNull();
    const extracted = served.step_executions[0].extracted as Record<string, unknown>;
    expect(extracted).toEqual({
      order: 'A\uFFFDB',
      lone: 'x\uFFFD',
      saved: 'A\uFFFDB',
      whole: { order: { id: 'A\uFFFDB' }, lone: 'x\uFFFD', 'k\uFFFDey': { v: '\uFFFD', ok: '\ud83d\ude00' } },
    });
    // final_output of a workflow without a template is its context.
    expect(served.final_output).toMatchObject({ order: 'A\uFFFDB', lone: 'x\uFFFD' });
    const { rows } = await db.sql.query('select "values" from job_contexts where job_id = $1', [jobId]);
    expect(rows[0]?.values).toEqual({ saved: 'A\uFFFDB' });
    expect(hits.get('/dirty')).toBe(1);
    expect(projectionErrors).toEqual([]);
  });

  it('a resume payload with NUL and lone surrogates in keys and values, or 20,000 levels deep, resumes the step and the execution ends', async () => {
    const waitStep = { id: 'hook', type: 'wait_for_webhook', timeout_seconds: null, on_timeout: 'fail', extract: { got: '$.a', key: '$["k\uFFFD"]' } } as StepSpec;
    const dirty = await launch(workflow([waitStep]));
    const deep = await launch(workflow([waitStep]));
    const post = async (executionId: string, body: string) =>
      fetch(`${ingestUrl}/v1/resume/${await resumeToken(executionId, 'hook')}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    const answered = await post(dirty, '{"a":"x\\u0000y\\ud800","k\\u0000":["\\udfff"]}');
    expect(answered.status).toBe(200);
    expect(await answered.json()).toEqual({ resumed: true, execution_id: dirty });
    const deepAnswer = await post(deep, deepObjects);
    expect(deepAnswer.status).toBe(200);
    expect(await deepAnswer.json()).toEqual({ resumed: true, execution_id: deep });

    // Another caller of the engine lib (no body parser in front) gets the same rule from Waitpoints.
    const direct = await launch(workflow([waitStep]));
    const deepValue = JSON.parse('['.repeat(DEPTH) + ']'.repeat(DEPTH)) as unknown;
    await expect(new Waitpoints(store, () => new Date()).resume(await resumeToken(direct, 'hook'), { a: 'n\u0000', deep: deepValue })).resolves.toEqual({
      kind: 'resumed',
      executionId: direct,
    });
    const servedDirect = await servedEnd(direct);
    expect(servedDirect).toMatchObject({ status: 'succeeded', projection_error: null, step_executions: [{ extracted: { got: 'n\uFFFD' } }] });
    expect(jsonDepth(servedDirect.step_executions[0].input)).toBeLessThanOrEqual(MAX_STORED_JSON_DEPTH);

    const servedDirty = await servedEnd(dirty);
    expect(servedDirty).toMatchObject({ status: 'succeeded', projection_error: null });
    expect(servedDirty.step_executions[0]).toMatchObject({ input: { a: 'x\uFFFDy\uFFFD', 'k\uFFFD': ['\uFFFD'] }, extracted: { got: 'x\uFFFDy\uFFFD', key: ['\uFFFD'] } });
    // Too deep to keep parsed: the payload is kept as its text, and extraction finds nothing in it.
    const servedDeep = await servedEnd(deep);
    expect(servedDeep).toMatchObject({ status: 'succeeded', projection_error: null });
    expect(servedDeep.step_executions[0]).toMatchObject({ input: deepObjects, extracted: {} });
    expect(projectionErrors).toEqual([]);
  });

  it('a 20,000-deep response with max_attempts 1 is requested exactly once and the execution ends', async () => {
    const step = await launch(workflow([http('deep', '/deep-arrays', { extract: { first: '$[0]' } } as Partial<StepSpec>)]));
    const request = await launch({
      name: 'deep-request',
      kind: 'one_time',
      request: { url: `${targetUrl}/deep-objects`, method: 'GET', headers: {}, timeout_seconds: 10, success_statuses: [200] },
      retry_policy: { max_attempts: 1, retry_on_statuses: [] },
      response_output_template: { all: '$', first: '$.a.a' },
    });

    expect((await engineEnd(step)).state.status).toBe('succeeded');
    expect((await engineEnd(request)).state.status).toBe('succeeded');
    const servedStep = await servedEnd(step);
    // Kept as text: `$[0]` finds nothing.
    expect(servedStep.step_executions[0]).toMatchObject({ status: 'succeeded', extracted: {} });
    const servedRequest = await servedEnd(request);
    expect(servedRequest.status).toBe('succeeded');
    const output = servedRequest.final_output as { all: unknown; first: unknown };
    expect(jsonDepth(output)).toBeLessThanOrEqual(MAX_STORED_JSON_DEPTH);
    expect(jsonDepth(output.first)).toBeGreaterThan(10);

    await settleRedeliveries();
    expect(hits.get('/deep-arrays')).toBe(1);
    expect(hits.get('/deep-objects')).toBe(1);
    expect(servedStep.step_executions[0].attempts).toHaveLength(1);
    expect(servedRequest.attempts).toHaveLength(1);
    expect(projectionErrors).toEqual([]);
  });

  it('a response too large to record fails the execution with unstorable_response after one request, never re-sending it', async () => {
    const executionId = await launch(workflow([http('big', '/huge', { extract: { a: '$.blob', b: '$.blob' } } as Partial<StepSpec>)]));
    const loaded = await engineEnd(executionId);
    expect(loaded.state.status).toBe('failed');
    expect(loaded.events.at(-1)).toMatchObject({ type: 'ExecutionFailed', data: { error: { code: 'unstorable_response' } } });
    const served = await servedEnd(executionId);
    expect(served).toMatchObject({ status: 'failed', error: { code: 'unstorable_response' }, projection_error: null });
    expect(served.step_executions[0]).toMatchObject({ status: 'failed', error: { code: 'unstorable_response' } });
    await settleRedeliveries();
    expect(hits.get('/huge')).toBe(1);
  });
});
