import { UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { createOrm } from '@trigrun/database';
import type { ExecutionEvent, ExecutionTrigger, JobKind } from '@trigrun/execution-contracts';
import type { Disposition } from '@trigrun/messaging';
import { ulid } from '@trigrun/util';
import { parkTokenAad } from '@trigrun/execution-store';
import { SecretCipher } from '@trigrun/secrets';
import { ExecutionProjector } from './execution.projector';
import { ExecutionQueries } from './execution.queries';
import { attemptRecord, eventsOf, finishedRun, jobSnapshot, jsMsg, workflowSnapshot, type ExecutionIdentity } from './testing/execution-events';
import { waitingPayloadsOpenedWith } from './waiting-payload';
import { createScratchDatabase, type ScratchDatabase } from '@trigrun/database/testing';

const ADMIN_URL = process.env.TRIGRUN_IT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const ACK: Disposition = { type: 'ack' };
const at = (iso: string, plusMs: number) => new Date(Date.parse(iso) + plusMs).toISOString();

/** The execution fields of docs/executions.md, among them `replay_of` (set by replay) and `projection_error` (docs/third-party-data.md). */
const API_FIELDS = [
  'id',
  'job_id',
  'job_name',
  'kind',
  'status',
  'trigger',
  'scheduled_for',
  'queued_at',
  'started_at',
  'finished_at',
  'duration_ms',
  'attempts',
  'step_executions',
  'trigger_input',
  'waiting_reason',
  'waiting_payload',
  'waiting_expires_at',
  'final_output',
  'error',
  'replay_of',
  'projection_error',
];

describe('execution read model (real Postgres)', () => {
  let db: ScratchDatabase;
  let projector: ExecutionProjector;
  let queries: ExecutionQueries;
  // Stream sequences only grow, like a JetStream stream's; a redelivery reuses the original one.
  let lastStreamSeq = 0;

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, []);
    // Test-only audit of every committed write to an execution row: "applied once" and "wrote
    // nothing" become countable, which the final row alone cannot show (a duplicate write of equal
    // values looks the same).
    await db.sql.query(`
      create table it_execution_writes (n bigserial primary key, execution_id text not null, op text not null, position integer not null);
      create function it_record_execution_write() returns trigger language plpgsql as $$
        begin insert into it_execution_writes (execution_id, op, position) values (new.id, tg_op, new.position); return new; end $$;
      create trigger it_execution_writes after insert or update on executions for each row execute function it_record_execution_write();
    `);
    projector = new ExecutionProjector(db.orm);
    queries = new ExecutionQueries(db.orm);
  });

  afterAll(async () => {
    await db?.dispose();
  });

  async function seedWorkspace(): Promise<string> {
    const id = `ws_${ulid()}`;
    await db.sql.query('insert into workspaces (id, name, created_at) values ($1, $2, $3)', [id, `it ${id}`, '2026-03-01T00:00:00.000Z']);
    return id;
  }

  async function seedJob(workspaceId: string, kind: JobKind, state: string, name = `job-${kind}`): Promise<string> {
    const id = `job_${ulid()}`;
    await db.sql.query(
      `insert into jobs (id, workspace_id, name, kind, state, retry_policy, max_concurrent_executions, next_run_at, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, 0, $7, $8, $8)`,
      [id, workspaceId, name, kind, state, JSON.stringify({ max_attempts: 3, retry_on_statuses: [503] }), '2026-03-15T09:59:00.000Z', '2026-03-01T00:00:00.000Z'],
    );
    return id;
  }

  function identity(workspaceId: string, jobId: string, queuedAt: string): ExecutionIdentity {
    return { executionId: `exec_${ulid(Date.parse(queuedAt))}`, jobId, workspaceId };
  }

  async function deliver(event: ExecutionEvent, seq = ++lastStreamSeq): Promise<Disposition> {
    return projector.handle(jsMsg(event, seq));
  }

  /** Delivers in order, expecting each to apply; returns the stream sequences used. */
  async function deliverAll(events: readonly ExecutionEvent[]): Promise<number[]> {
    const seqs: number[] = [];
    for (const event of events) {
      const seq = ++lastStreamSeq;
      expect(await deliver(event, seq)).toEqual(ACK);
      seqs.push(seq);
    }
    return seqs;
  }

  /** The stored row as Postgres has it (bigint `last_seq` comes back as a string); `row_version` (xmin) changes on any write, even one of equal values. */
  async function executionRow(id: string) {
    const { rows } = await db.sql.query('select *, xmin::text as row_version from executions where id = $1', [id]);
    return rows[0] as Record<string, unknown> | undefined;
  }

  async function jobRow(id: string) {
    const { rows } = await db.sql.query('select state, next_run_at, last_run_at, updated_at, xmin::text as row_version from jobs where id = $1', [id]);
    return rows[0] as { state: string; next_run_at: Date | null; last_run_at: Date | null; updated_at: Date; row_version: string };
  }

  /** Positions written to the execution's row, in write order: `[1, 2, 3]` is one write per applied event. */
  async function writesOf(id: string): Promise<number[]> {
    const { rows } = await db.sql.query('select position from it_execution_writes where execution_id = $1 order by n', [id]);
    return rows.map((r: { position: number }) => r.position);
  }

  async function countExecutions(id: string): Promise<number> {
    const { rows } = await db.sql.query('select count(*)::int as n from executions where id = $1', [id]);
    return rows[0].n;
  }

  it('projects a full history to the stored row and serves it in the shape of docs/executions.md', async () => {
    const ws = await seedWorkspace();
    const jobId = await seedJob(ws, 'recurring', 'active', 'nightly-report');
    const T0 = '2026-03-15T10:00:00.020Z';
    const id = identity(ws, jobId, T0);
    const e = eventsOf(id);
    const attempt = attemptRecord(1, at(T0, 1480));
    const history = [
      e.queued(T0, { job: jobSnapshot('nightly-report', 'recurring'), trigger: 'schedule', scheduledFor: '2026-03-15T10:00:00.000Z', triggerInput: { region: 'eu' } }),
      e.started(2, at(T0, 1480)),
      e.attempt(3, at(T0, 1522), attempt),
      e.succeeded(4, at(T0, 2730), { rows: 12, ok: true }),
    ];

    const seqs = await deliverAll(history);
    expect(await writesOf(id.executionId)).toEqual([1, 2, 3, 4]);

    const row = await executionRow(id.executionId);
    expect(row).toMatchObject({
      workspace_id: ws,
      job_id: jobId,
      job_name: 'nightly-report',
      kind: 'recurring',
      status: 'succeeded',
      trigger: 'schedule',
      scheduled_for: new Date('2026-03-15T10:00:00.000Z'),
      queued_at: new Date(T0),
      started_at: new Date(at(T0, 1480)),
      finished_at: new Date(at(T0, 2730)),
      duration_ms: '1250', // bigint column: node-postgres returns it as text
      attempts: [attempt],
      step_executions: [],
      trigger_input: { region: 'eu' },
      final_output: { rows: 12, ok: true },
      error: null,
      replay_of: null,
      position: 4,
      last_seq: String(seqs[3]),
    });

    const api = await queries.get(ws, id.executionId);
    expect(api).toEqual({
      id: id.executionId,
      job_id: jobId,
      job_name: 'nightly-report',
      kind: 'recurring',
      status: 'succeeded',
      trigger: 'schedule',
      scheduled_for: '2026-03-15T10:00:00.000Z',
      queued_at: T0,
      started_at: '2026-03-15T10:00:01.500Z',
      finished_at: '2026-03-15T10:00:02.750Z',
      duration_ms: 1250,
      attempts: [attempt],
      step_executions: [],
      trigger_input: { region: 'eu' },
      waiting_reason: null,
      waiting_payload: null,
      waiting_expires_at: null,
      final_output: { rows: 12, ok: true },
      error: null,
      replay_of: null,
      projection_error: null,
    });
    expect(Object.keys(api ?? {}).sort()).toEqual([...API_FIELDS].sort());
    expect(await queries.list(ws, {}, 50)).toEqual({ data: [api], next_cursor: null });
  });

  it('serves a failed execution with its error and the duration from start to end', async () => {
    const ws = await seedWorkspace();
    const jobId = await seedJob(ws, 'cron', 'active', 'sync');
    const T0 = '2026-03-15T11:00:00.000Z';
    const id = identity(ws, jobId, T0);
    await deliverAll(finishedRun(id, { job: jobSnapshot('sync', 'cron'), trigger: 'manual', queuedAt: T0, startedAt: at(T0, 100), finishedAt: at(T0, 600), outcome: 'failed' }));

    expect(await queries.get(ws, id.executionId)).toMatchObject({
      status: 'failed',
      trigger: 'manual',
      started_at: at(T0, 100),
      finished_at: at(T0, 600),
      duration_ms: 500,
      final_output: null,
      error: { code: 'http_error', message: 'HTTP 500' },
      attempts: [expect.objectContaining({ number: 1, status: 'HTTP_ERROR', statusCode: 500 })],
    });
  });

  it('keeps a withdrawn run (armed ahead of its slot, then taken back) but never serves or lists it, even if its first event comes again', async () => {
    const ws = await seedWorkspace();
    const jobId = await seedJob(ws, 'scheduled', 'active', 'nightly');
    const T0 = '2026-03-15T12:00:00.000Z';
    const id = identity(ws, jobId, T0);
    const e = eventsOf(id);
    const queued = e.queued(T0, { job: jobSnapshot('nightly', 'scheduled'), trigger: 'schedule', scheduledFor: at(T0, 30_000) });
    await deliverAll([queued]);
    expect(await queries.get(ws, id.executionId)).toMatchObject({ status: 'queued', scheduled_for: at(T0, 30_000) });
    await deliverAll([e.withdrawn(2, at(T0, 5_000), 'job_paused')]);
    expect(await deliver(queued)).toEqual(ACK);
    expect(await executionRow(id.executionId)).toMatchObject({ status: 'withdrawn', position: 2 });
    expect(await queries.get(ws, id.executionId)).toBeNull();
    expect((await queries.list(ws, {}, 50)).data).toEqual([]);
    expect((await queries.list(ws, { status: 'queued' }, 50)).data).toEqual([]);
    // The job is not moved: no run happened.
    expect(await jobRow(jobId)).toMatchObject({ state: 'active', last_run_at: null });
  });

  it('changes nothing when events are delivered again, in or out of order', async () => {
    const ws = await seedWorkspace();
    const jobId = await seedJob(ws, 'one_time', 'active');
    const T0 = '2026-03-15T12:00:00.000Z';
    const id = identity(ws, jobId, T0);
    const history = finishedRun(id, { job: jobSnapshot('job-one_time', 'one_time'), trigger: 'schedule', queuedAt: T0, startedAt: at(T0, 10), finishedAt: at(T0, 20) });

    // Midway: a redelivered older event while the row is at position 2.
    const seqs = await deliverAll(history.slice(0, 2));
    const midway = await executionRow(id.executionId);
    expect(await deliver(history[0], seqs[0])).toEqual(ACK);
    expect(await executionRow(id.executionId)).toEqual(midway);

    seqs.push(...(await deliverAll(history.slice(2))));
    const finalRow = await executionRow(id.executionId);
    const finalJob = await jobRow(jobId);
    expect(finalRow).toMatchObject({ status: 'succeeded', position: 4, last_seq: String(seqs[3]) });

    // JetStream redelivers with the original sequence; a re-publish would carry a new one.
    for (const i of [3, 0, 2, 1]) expect(await deliver(history[i], seqs[i])).toEqual(ACK);
    expect(await deliver(history[1])).toEqual(ACK);
    expect(await deliver(history[3])).toEqual(ACK);

    expect(await executionRow(id.executionId)).toEqual(finalRow);
    expect(await jobRow(jobId)).toEqual(finalJob);
    expect(await countExecutions(id.executionId)).toBe(1);
    expect(await writesOf(id.executionId)).toEqual([1, 2, 3, 4]);
  });

  it('makes an event wait (nak) for the one before it and writes nothing until it can apply', async () => {
    const ws = await seedWorkspace();
    const jobId = await seedJob(ws, 'recurring', 'active');
    const T0 = '2026-03-15T13:00:00.000Z';
    const id = identity(ws, jobId, T0);
    const [queued, started, attempted, succeeded] = finishedRun(id, {
      job: jobSnapshot('job-recurring', 'recurring'),
      trigger: 'schedule',
      queuedAt: T0,
      startedAt: at(T0, 10),
      finishedAt: at(T0, 20),
    });
    const jobBefore = await jobRow(jobId);

    // Before the execution exists at all.
    const early = await deliver(started);
    expect(early).toEqual({ type: 'nak', delayMs: expect.any(Number) });
    expect((early as { delayMs: number }).delayMs).toBeGreaterThan(0);
    expect(await countExecutions(id.executionId)).toBe(0);
    expect(await jobRow(jobId)).toEqual(jobBefore);

    await deliverAll([queued]);
    const afterQueued = await executionRow(id.executionId);
    expect(await deliver(attempted)).toMatchObject({ type: 'nak' });
    expect(await deliver(succeeded)).toMatchObject({ type: 'nak' });
    expect(await executionRow(id.executionId)).toEqual(afterQueued);
    expect(await writesOf(id.executionId)).toEqual([1]);
    expect(await jobRow(jobId)).toEqual(jobBefore);

    const [startedSeq] = await deliverAll([started]);
    expect(await executionRow(id.executionId)).toMatchObject({ status: 'running', position: 2, last_seq: String(startedSeq), attempts: [] });
    const [attemptSeq] = await deliverAll([attempted]);
    expect(await executionRow(id.executionId)).toMatchObject({ status: 'running', position: 3, last_seq: String(attemptSeq), attempts: [attempted.data.attempt] });
    await deliverAll([succeeded]);
    expect(await executionRow(id.executionId)).toMatchObject({ status: 'succeeded', position: 4 });
    expect(await writesOf(id.executionId)).toEqual([1, 2, 3, 4]);
  });

  it('terminates (and records nothing for) a message it cannot read or place', async () => {
    const ws = await seedWorkspace();
    const jobId = await seedJob(ws, 'recurring', 'active');
    const T0 = '2026-03-15T13:30:00.000Z';
    const id = identity(ws, jobId, T0);
    const e = eventsOf(id);

    const garbage = { data: new TextEncoder().encode('{"type":"ExecutionQueued",'), seq: ++lastStreamSeq } as unknown as Parameters<ExecutionProjector['handle']>[0];
    expect(await projector.handle(garbage)).toMatchObject({ type: 'term' });
    const invalid = { ...e.queued(T0, { job: jobSnapshot('x', 'recurring'), trigger: 'schedule' }), version: 99 } as ExecutionEvent;
    expect(await deliver(invalid)).toMatchObject({ type: 'term' });
    // A history cannot begin with anything but ExecutionQueued.
    const startedFirst = { ...e.started(2, T0), position: 1 } as ExecutionEvent;
    expect(await deliver(startedFirst)).toMatchObject({ type: 'term' });

    expect(await countExecutions(id.executionId)).toBe(0);
    expect((await jobRow(jobId)).last_run_at).toBeNull();
  });

  describe('workflow executions', () => {
    const PUBLIC_URL = 'https://trigrun.example.com';
    const cipher = new SecretCipher({ current: { version: 3, key: Buffer.alloc(32, 7) }, previous: new Map() });
    /** As the api-gateway wires it: URLs opened at read time from the sealed token. */
    const withUrls = () =>
      new ExecutionQueries(
        db.orm,
        waitingPayloadsOpenedWith({
          publicUrl: PUBLIC_URL,
          openToken: (executionId, waiting) => cipher.decrypt(waiting.tokenSealed.ciphertext, waiting.tokenSealed.key_version, parkTokenAad(executionId, waiting.stepId)),
        }),
      );
    const STEPS = [
      {
        id: 'fetch',
        type: 'http',
        url: 'https://shop.example.com/orders/{{trigger.body.order}}',
        method: 'GET',
        headers: {},
        timeout_seconds: 30,
        success_statuses: [200],
        retry_policy: { max_attempts: 3, retry_on_statuses: [503] },
        extract: { order_id: '$.order.id' },
      },
      { id: 'wait', type: 'wait_for_webhook', timeout_seconds: 600, on_timeout: 'fail' },
    ] as const;

    /** queued → started → fetch (a 503, then a 200) → completed → wait parked → resumed → completed → succeeded. */
    function workflowHistory(id: ExecutionIdentity, T0: string) {
      const e = eventsOf(id);
      const token = `${id.executionId}.${'Q'.repeat(43)}`;
      const sealed = cipher.encrypt(token, parkTokenAad(id.executionId, 'wait'));
      const fetchInput = { url: 'https://shop.example.com/orders/7', method: 'GET', headers: {} };
      const attempts = [attemptRecord(1, at(T0, 20), { status: 'HTTP_ERROR', statusCode: 503, errorMessage: 'HTTP 503 is not in success_statuses' }), attemptRecord(2, at(T0, 400))];
      const events = [
        e.queued(T0, { job: workflowSnapshot('orders', STEPS), trigger: 'webhook', triggerInput: { body: { order: 7 } } }),
        e.started(2, at(T0, 10), { region: 'eu' }),
        e.stepStarted(3, at(T0, 10), { id: 'fetch', type: 'http', index: 0, input: fetchInput }),
        e.attempt(4, at(T0, 300), attempts[0], at(T0, 390), 'fetch'),
        e.attempt(5, at(T0, 450), attempts[1], null, 'fetch'),
        e.stepCompleted(6, at(T0, 450), 'fetch', { order: { id: 'o-7' } }, { order_id: 'o-7' }),
        e.stepStarted(7, at(T0, 450), { id: 'wait', type: 'wait_for_webhook', index: 1 }),
        e.parked(8, at(T0, 450), { stepId: 'wait', reason: 'webhook', expiresAt: at(T0, 600_450), sealed: { ciphertext: sealed.ciphertext, key_version: sealed.keyVersion } }),
        e.resumed(9, at(T0, 5000), { stepId: 'wait', via: 'resume', payload: { tracking: 'T-1' } }),
        e.stepCompleted(10, at(T0, 5000), 'wait', { tracking: 'T-1' }, { tracking: 'T-1' }),
        e.succeeded(11, at(T0, 5000), { order_id: 'o-7', tracking: 'T-1' }),
      ];
      return { events, token, sealed, fetchInput, attempts };
    }

    it('projects steps, parking and resumption to the stored row; redelivery changes nothing', async () => {
      const ws = await seedWorkspace();
      const jobId = await seedJob(ws, 'workflow', 'active', 'orders');
      const T0 = '2026-03-15T19:00:00.000Z';
      const id = identity(ws, jobId, T0);
      const { events, token, sealed, fetchInput, attempts } = workflowHistory(id, T0);

      // Up to the park.
      const seqs = await deliverAll(events.slice(0, 8));
      const parked = await executionRow(id.executionId);
      expect(parked).toMatchObject({
        status: 'waiting',
        position: 8,
        attempts: [],
        context: { region: 'eu', order_id: 'o-7' },
        waiting_reason: 'webhook',
        waiting_step_id: 'wait',
        waiting_message: null,
        waiting_token_sealed: { ciphertext: sealed.ciphertext, key_version: 3 },
        waiting_expires_at: new Date(at(T0, 600_450)),
        step_executions: [
          {
            step_id: 'fetch',
            type: 'http',
            status: 'succeeded',
            started_at: at(T0, 10),
            finished_at: at(T0, 450),
            attempts,
            input: fetchInput,
            output: { order: { id: 'o-7' } },
            extracted: { order_id: 'o-7' },
            error: null,
          },
          { step_id: 'wait', type: 'wait_for_webhook', status: 'waiting', started_at: at(T0, 450), finished_at: null, attempts: [], input: null, output: null, extracted: null, error: null },
        ],
      });
      expect(parked).not.toHaveProperty('waiting_payload');
      // The token is never stored in clear.
      expect(JSON.stringify(parked)).not.toContain(token.split('.')[1]);

      const served = await withUrls().get(ws, id.executionId);
      expect(served).toMatchObject({
        status: 'waiting',
        waiting_reason: 'webhook',
        waiting_payload: { resume_url: `${PUBLIC_URL}/v1/resume/${token}` },
        waiting_expires_at: at(T0, 600_450),
      });
      expect(Object.keys(served ?? {}).sort()).toEqual([...API_FIELDS].sort());
      expect((await queries.get(ws, id.executionId))?.waiting_payload).toEqual({ resume_url: null });
      expect((await withUrls().list(ws, { status: 'waiting' }, 50)).data).toEqual([served]);

      // A redelivery while parked.
      expect(await deliver(events[7], seqs[7])).toEqual(ACK);
      expect(await deliver(events[2], seqs[2])).toEqual(ACK);
      expect(await executionRow(id.executionId)).toEqual(parked);

      // Resumed, then done.
      seqs.push(...(await deliverAll(events.slice(8))));
      const done = await executionRow(id.executionId);
      expect(done).toMatchObject({
        status: 'succeeded',
        position: 11,
        finished_at: new Date(at(T0, 5000)),
        duration_ms: '4990', // bigint: text from node-postgres
        final_output: { order_id: 'o-7', tracking: 'T-1' },
        context: { region: 'eu', order_id: 'o-7', tracking: 'T-1' },
        waiting_reason: null,
        waiting_step_id: null,
        waiting_message: null,
        waiting_token_sealed: null,
        waiting_expires_at: null,
      });
      expect((done!.step_executions as Array<{ step_id: string }>)[1]).toEqual({
        step_id: 'wait',
        type: 'wait_for_webhook',
        status: 'succeeded',
        started_at: at(T0, 450),
        finished_at: at(T0, 5000),
        attempts: [],
        input: { tracking: 'T-1' },
        output: { tracking: 'T-1' },
        extracted: { tracking: 'T-1' },
        error: null,
      });
      expect(await withUrls().get(ws, id.executionId)).toMatchObject({ status: 'succeeded', waiting_reason: null, waiting_payload: null, waiting_expires_at: null });
      expect((await withUrls().list(ws, { status: 'waiting' }, 50)).data).toEqual([]);

      // Redelivering the whole history, in any order, writes nothing.
      for (const i of [10, 7, 0, 8, 3, 9]) expect(await deliver(events[i], seqs[i])).toEqual(ACK);
      expect(await executionRow(id.executionId)).toEqual(done);
      expect(await writesOf(id.executionId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    });

    it('folds a whole history delivered in one batch to the same row as one event at a time', async () => {
      const ws = await seedWorkspace();
      const jobId = await seedJob(ws, 'workflow', 'active', 'orders');
      const T0 = '2026-03-15T19:30:00.000Z';
      const oneByOne = identity(ws, jobId, T0);
      const batched = identity(ws, jobId, at(T0, 1));
      await deliverAll(workflowHistory(oneByOne, T0).events);

      const batch = workflowHistory(batched, T0).events;
      const dispositions = await projector.handleBatch(batch.map((event) => ({ msg: jsMsg(event, ++lastStreamSeq), deliveryCount: 1 })));
      expect(dispositions).toEqual(batch.map(() => ACK));
      expect(await writesOf(batched.executionId)).toEqual([11]);

      const [a, b] = await Promise.all([queries.get(ws, oneByOne.executionId), queries.get(ws, batched.executionId)]);
      expect({ ...b, id: oneByOne.executionId }).toEqual(a);
    });
  });

  // What executions do to their job (last_run_at, a one-shot job's `completed`) is the jobs
  // reaction's, on a consumer of its own: libs/jobs/application/src/jobs.reaction.int-spec.ts.
  describe('the jobs table', () => {
    it.each<[JobKind, ExecutionTrigger, 'succeeded' | 'failed']>([
      ['one_time', 'schedule', 'succeeded'],
      ['scheduled', 'schedule', 'failed'],
      ['recurring', 'manual', 'succeeded'],
    ])('is never written by the projection (a %s job, %s trigger, %s)', async (kind, trigger, outcome) => {
      const ws = await seedWorkspace();
      const jobId = await seedJob(ws, kind, 'active');
      const T0 = '2026-03-15T15:00:00.000Z';
      const before = await jobRow(jobId);
      await deliverAll(finishedRun(identity(ws, jobId, T0), { job: jobSnapshot(`job-${kind}`, kind), trigger, queuedAt: T0, startedAt: at(T0, 50), finishedAt: at(T0, 900), outcome }));
      // row_version (xmin) changes on any write, even one of equal values.
      expect(await jobRow(jobId)).toEqual(before);
    });
  });

  describe('concurrent delivery', () => {
    it('leaves one row when two consumers create the same execution at once', async () => {
      const ws = await seedWorkspace();
      const jobId = await seedJob(ws, 'recurring', 'active');
      const job = jobSnapshot('job-recurring', 'recurring');
      // Several executions at once, to give the race a fair chance to happen at least once.
      const queuedEvents = [0, 1, 2, 3, 4].map((i) => {
        const T = at('2026-03-15T16:00:00.000Z', i * 1000);
        return eventsOf(identity(ws, jobId, T)).queued(T, { job, trigger: 'schedule' });
      });

      await Promise.all(
        queuedEvents.map(async (event) => {
          const seq = ++lastStreamSeq;
          const results = await Promise.allSettled([deliver(event, seq), deliver(event, seq)]);
          for (const r of results) {
            if (r.status === 'fulfilled') expect(r.value).toEqual(ACK);
            else expect(r.reason).toBeInstanceOf(UniqueConstraintViolationException);
          }
          expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
          // The consumer redelivers what failed; by then the row exists and the event is a duplicate.
          for (const r of results) if (r.status === 'rejected') expect(await deliver(event, seq)).toEqual(ACK);

          expect(await countExecutions(event.execution_id)).toBe(1);
          expect(await writesOf(event.execution_id)).toEqual([1]);
          expect(await executionRow(event.execution_id)).toMatchObject({ status: 'queued', position: 1, last_seq: String(seq), queued_at: new Date(event.occurred_at) });
        }),
      );
    });

    it('applies an event once when two consumers apply it to an existing row at once', async () => {
      const ws = await seedWorkspace();
      const jobId = await seedJob(ws, 'recurring', 'active');
      const T0 = '2026-03-15T17:00:00.000Z';
      const id = identity(ws, jobId, T0);
      const [queued, started, attempted, succeeded] = finishedRun(id, {
        job: jobSnapshot('job-recurring', 'recurring'),
        trigger: 'schedule',
        queuedAt: T0,
        startedAt: at(T0, 10),
        finishedAt: at(T0, 20),
      });
      await deliverAll([queued, started]);

      // The row lock serialises them: the second sees the first's position and acks a duplicate.
      const seq = ++lastStreamSeq;
      expect(await Promise.all([deliver(attempted, seq), deliver(attempted, seq)])).toEqual([ACK, ACK]);
      const row = await executionRow(id.executionId);
      expect(row).toMatchObject({ position: 3, last_seq: String(seq), attempts: [attempted.data.attempt] });

      // And the terminal event.
      const s4 = ++lastStreamSeq;
      const outcomes = await Promise.all([deliver(succeeded, s4), deliver(succeeded, s4)]);
      expect(outcomes).toEqual([ACK, ACK]);
      expect(await executionRow(id.executionId)).toMatchObject({ status: 'succeeded', position: 4, attempts: [attempted.data.attempt] });
      expect(await countExecutions(id.executionId)).toBe(1);
      expect(await writesOf(id.executionId)).toEqual([1, 2, 3, 4]);
    });

    it('orders two successive events delivered at once', async () => {
      const ws = await seedWorkspace();
      const jobId = await seedJob(ws, 'recurring', 'active');
      const T0 = '2026-03-15T17:30:00.000Z';
      const id = identity(ws, jobId, T0);
      const [queued, started, attempted] = finishedRun(id, {
        job: jobSnapshot('job-recurring', 'recurring'),
        trigger: 'schedule',
        queuedAt: T0,
        startedAt: at(T0, 10),
        finishedAt: at(T0, 20),
      });
      await deliverAll([queued]);
      const [s2, s3] = [++lastStreamSeq, ++lastStreamSeq];
      const [d2, d3] = await Promise.all([deliver(started, s2), deliver(attempted, s3)]);
      expect(d2).toEqual(ACK);
      if (d3.type !== 'ack') {
        expect(d3.type).toBe('nak');
        expect(await deliver(attempted, s3)).toEqual(ACK);
      }
      expect(await executionRow(id.executionId)).toMatchObject({ status: 'running', position: 3, last_seq: String(s3), attempts: [attempted.data.attempt] });
      expect(await writesOf(id.executionId)).toEqual([1, 2, 3]);
    });

    // The consumer runs 16 handlers at once against a pool of 10 connections: a handler must not
    // need a second connection while its transaction holds one, or a burst starves the pool.
    it('applies more events at once than the pool has connections', async () => {
      const orm = await createOrm({ url: db.url, entities: [], poolMax: 2 });
      try {
        const narrow = new ExecutionProjector(orm);
        const burst = (events: ExecutionEvent[]) => Promise.all(events.map((event) => narrow.handle(jsMsg(event, ++lastStreamSeq))));
        const ws = await seedWorkspace();
        const jobId = await seedJob(ws, 'one_time', 'active');
        const runs = [0, 1, 2, 3, 4, 5].map((i) => {
          const T = at('2026-03-15T18:00:00.000Z', i * 1000);
          return finishedRun(identity(ws, jobId, T), { job: jobSnapshot('job-one_time', 'one_time'), trigger: 'schedule', queuedAt: T, startedAt: at(T, 10), finishedAt: at(T, 20) });
        });
        await deliverAll(runs.map((r) => r[0]));

        // Six at a time through two connections.
        expect(await burst(runs.map((r) => r[1]))).toEqual(runs.map(() => ACK));
        await deliverAll(runs.map((r) => r[2]));
        expect(await burst(runs.map((r) => r[3]))).toEqual(runs.map(() => ACK));

        for (const [queued] of runs) expect(await executionRow(queued.execution_id)).toMatchObject({ status: 'succeeded', position: 4 });
      } finally {
        await orm.close(true);
      }
    }, 20_000);
  });

  describe('ExecutionQueries.list', () => {
    const BASE = '2026-03-16T08:00:00.000Z';

    /** Five executions in one workspace over two jobs, and two of another workspace's in between. */
    async function seedListing() {
      const ws = await seedWorkspace();
      const other = await seedWorkspace();
      const jobA = await seedJob(ws, 'recurring', 'active', 'alpha');
      const jobB = await seedJob(ws, 'cron', 'active', 'beta');
      const foreignJob = await seedJob(other, 'recurring', 'active', 'alpha');
      const plan: [string, string, 'queued' | 'running' | 'succeeded' | 'failed'][] = [
        [jobA, 'alpha', 'succeeded'],
        [jobB, 'beta', 'failed'],
        [jobA, 'alpha', 'queued'],
        [jobB, 'beta', 'succeeded'],
        [jobA, 'alpha', 'running'],
      ];
      const ids: string[] = [];
      for (const [i, [jobId, name, status]] of plan.entries()) {
        const T = at(BASE, i * 1000);
        const id = identity(ws, jobId, T);
        ids.push(id.executionId);
        const kind: JobKind = name === 'alpha' ? 'recurring' : 'cron';
        const history = finishedRun(id, { job: jobSnapshot(name, kind), trigger: 'schedule', queuedAt: T, startedAt: at(T, 10), finishedAt: at(T, 20), outcome: status === 'failed' ? 'failed' : 'succeeded' });
        const upTo = { queued: 1, running: 3, succeeded: 4, failed: 4 }[status];
        await deliverAll(history.slice(0, upTo));
      }
      const foreign: string[] = [];
      for (const i of [1, 3]) {
        const T = at(BASE, i * 1000 + 500);
        const id = identity(other, foreignJob, T);
        foreign.push(id.executionId);
        await deliverAll(finishedRun(id, { job: jobSnapshot('alpha', 'recurring'), trigger: 'schedule', queuedAt: T, startedAt: at(T, 10), finishedAt: at(T, 20) }));
      }
      return { ws, other, jobA, jobB, ids, foreign, newestFirst: [...ids].reverse() };
    }

    async function allPages(ws: string, filters: Parameters<ExecutionQueries['list']>[1], limit: number) {
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await queries.list(ws, filters, limit, cursor);
        pages.push(page.data.map((e) => e.id));
        cursor = page.next_cursor ?? undefined;
        expect(pages.length).toBeLessThan(20);
      } while (cursor);
      return pages;
    }

    it('pages newest first without repeats or gaps, unaffected by rows added meanwhile', async () => {
      const { ws, jobA, ids, foreign, newestFirst } = await seedListing();

      const first = await queries.list(ws, {}, 2);
      expect(first.data.map((e) => e.id)).toEqual(newestFirst.slice(0, 2));
      expect(first.next_cursor).toEqual(expect.any(String));

      // Queued after the first page was read: newer than the cursor, so it is not in later pages.
      const T = at(BASE, 10_000);
      const late = identity(ws, jobA, T);
      await deliverAll([eventsOf(late).queued(T, { job: jobSnapshot('alpha', 'recurring'), trigger: 'manual' })]);

      const second = await queries.list(ws, {}, 2, first.next_cursor ?? undefined);
      expect(second.data.map((e) => e.id)).toEqual(newestFirst.slice(2, 4));
      const third = await queries.list(ws, {}, 2, second.next_cursor ?? undefined);
      expect(third).toEqual({ data: [expect.objectContaining({ id: newestFirst[4] })], next_cursor: null });

      const seen = [first, second, third].flatMap((p) => p.data.map((e) => e.id));
      expect(seen).toEqual(newestFirst);
      expect(seen).not.toContain(late.executionId);
      for (const id of foreign) expect(seen).not.toContain(id);

      // A fresh walk starts from the new row.
      expect(await allPages(ws, {}, 2)).toEqual([[late.executionId, ...newestFirst.slice(0, 1)], newestFirst.slice(1, 3), newestFirst.slice(3, 5)]);
      expect(ids).toHaveLength(5);
    });

    it('filters by status, job and time, within the workspace only', async () => {
      const { ws, other, jobA, jobB, ids, foreign } = await seedListing();
      const idsOf = async (filters: Parameters<ExecutionQueries['list']>[1], limit = 50) => (await allPages(ws, filters, limit)).flat();

      expect(await idsOf({ status: 'succeeded' })).toEqual([ids[3], ids[0]]);
      expect(await idsOf({ status: 'failed' })).toEqual([ids[1]]);
      expect(await idsOf({ status: 'running' })).toEqual([ids[4]]);
      expect(await idsOf({ status: 'waiting' })).toEqual([]);
      expect(await idsOf({ jobId: jobA })).toEqual([ids[4], ids[2], ids[0]]);
      expect(await idsOf({ jobId: jobA }, 1)).toEqual([ids[4], ids[2], ids[0]]);
      expect(await idsOf({ jobId: jobB, status: 'succeeded' })).toEqual([ids[3]]);
      expect(await idsOf({ jobName: 'beta' })).toEqual([ids[3], ids[1]]);
      expect(await idsOf({ from: new Date(at(BASE, 1000)), to: new Date(at(BASE, 3000)) })).toEqual([ids[2], ids[1]]);

      const statuses = (await queries.list(ws, {}, 50)).data.map((e) => [e.id, e.status]);
      expect(statuses).toEqual([
        [ids[4], 'running'],
        [ids[3], 'succeeded'],
        [ids[2], 'queued'],
        [ids[1], 'failed'],
        [ids[0], 'succeeded'],
      ]);

      // Another workspace sees only its own, even with the same job name or a cursor taken here.
      expect(await allPages(other, {}, 1)).toEqual([[foreign[1]], [foreign[0]]]);
      expect(await idsOf({ jobName: 'alpha' })).toEqual([ids[4], ids[2], ids[0]]);
      const cursorHere = (await queries.list(ws, {}, 1)).next_cursor ?? undefined;
      expect((await queries.list(other, {}, 50, cursorHere)).data.map((e) => e.id)).toEqual([foreign[1], foreign[0]]);
      expect(await queries.get(other, ids[0])).toBeNull();
      expect(await queries.get(ws, foreign[0])).toBeNull();
    });
  });
});
