import type { JsMsg } from '@nats-io/jetstream';
import { createOrm } from '@trigrun/database';
import { type ScratchDatabase, createScratchDatabase } from '@trigrun/database/testing';
import { type ExecutionEvent, MAX_STORED_JSON_DEPTH, jsonDepth, jsonText } from '@trigrun/execution-contracts';
import type { Disposition } from '@trigrun/messaging';
import { ulid } from '@trigrun/util';
import { type ProjectionFailure, ExecutionProjector } from './execution.projector';
import { ExecutionQueries } from './execution.queries';
import { type ExecutionIdentity, attemptRecord, eventsOf, jobSnapshot, workflowSnapshot } from './testing/execution-events';

/**
 * Poison events against the real PostgreSQL (docs/third-party-data.md): events carrying what
 * PostgreSQL refuses (NUL, lone surrogates, 20,000-deep JSON — written before the edge rule, or
 * by a path that missed it) still project; an event that cannot be applied at all is skipped
 * with `projection_error` on its row and counted, and the next one applies; a transient database
 * error is retried, never skipped.
 */
const ADMIN_URL = process.env.TRIGRUN_IT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ACK: Disposition = { type: 'ack' };
const at = (iso: string, plusMs: number) => new Date(Date.parse(iso) + plusMs).toISOString();
const encoder = new TextEncoder();
/** JetStream message as the projector reads it; jsonText writes any depth (JSON.stringify would overflow). */
const msgOf = (event: ExecutionEvent, seq: number) => ({ data: encoder.encode(jsonText(event)), seq }) as unknown as JsMsg;
const deepArrays = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));

describe('execution read model: poison events (real Postgres)', () => {
  let db: ScratchDatabase;
  let projector: ExecutionProjector;
  let queries: ExecutionQueries;
  const failures: ProjectionFailure[] = [];
  let lastSeq = 0;

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, []);
    projector = new ExecutionProjector(db.orm, { onFailure: (f) => failures.push(f) });
    queries = new ExecutionQueries(db.orm);
  });

  afterAll(async () => {
    await db?.dispose();
  });

  async function newExecution(): Promise<ExecutionIdentity & { e: ReturnType<typeof eventsOf> }> {
    const workspaceId = `ws_${ulid()}`;
    await db.sql.query('insert into workspaces (id, name, created_at) values ($1, $2, $3)', [workspaceId, `it ${workspaceId}`, '2026-03-01T00:00:00.000Z']);
    const id = { executionId: `exec_${ulid()}`, jobId: `job_${ulid()}`, workspaceId };
    return { ...id, e: eventsOf(id) };
  }

  const deliver = (event: ExecutionEvent) => projector.handle(msgOf(event, ++lastSeq));
  const deliverBatch = (events: readonly ExecutionEvent[]) => projector.handleBatch(events.map((event) => ({ msg: msgOf(event, ++lastSeq), deliveryCount: 1 })));
  const row = async (id: string) => (await db.sql.query('select * from executions where id = $1', [id])).rows[0] as Record<string, unknown>;

  it('stores NUL and lone surrogates, in keys and values, as U+FFFD, and the execution ends', async () => {
    const x = await newExecution();
    const T0 = '2026-04-01T10:00:00.000Z';
    const dirty = { 'k\u0000ey': 'v\u0000', 'lone\ud800': ['\udc00', 'pair \ud83d\ude00'] };
    const events = [
      x.e.queued(T0, { job: jobSnapshot('nul\u0000job', 'one_time'), trigger: 'manual', triggerInput: dirty }),
      x.e.started(2, at(T0, 10)),
      x.e.attempt(3, at(T0, 20), attemptRecord(1, at(T0, 10), { bodyPreview: 'a\u0000b\ud800' })),
      x.e.succeeded(4, at(T0, 30), dirty),
    ];
    for (const event of events) expect(await deliver(event)).toEqual(ACK);

    const clean = { 'k\uFFFDey': 'v\uFFFD', 'lone\uFFFD': ['\uFFFD', 'pair \ud83d\ude00'] };
    const served = await queries.get(x.workspaceId, x.executionId);
    expect(served).toMatchObject({ status: 'succeeded', job_name: 'nul\uFFFDjob', trigger_input: clean, final_output: clean, projection_error: null });
    expect(served?.attempts[0].bodyPreview).toBe('a\uFFFDb\uFFFD');
  });

  it('stores what a 20,000-deep value nests below the depth limit as its JSON text instead of stalling on it', async () => {
    const x = await newExecution();
    const T0 = '2026-04-01T11:00:00.000Z';
    const deep = deepArrays(20_000);
    const events = [
      x.e.queued(T0, { job: workflowSnapshot('deep'), trigger: 'manual' }),
      x.e.started(2, at(T0, 10), {}),
      x.e.stepStarted(3, at(T0, 20), { id: 'fetch', type: 'http', index: 0, input: null }),
      x.e.stepCompleted(4, at(T0, 30), 'fetch', deep, { whole: deep }),
      x.e.failed(5, at(T0, 40), { code: 'step_failed', message: 'later' }),
    ];
    for (const event of events) expect(await deliver(event)).toEqual(ACK);

    const stored = await row(x.executionId);
    expect(stored).toMatchObject({ status: 'failed', position: 5, projection_error: null });
    const step = (stored.step_executions as Array<{ step_id: string; output: unknown; extracted: Record<string, unknown> }>).find((s) => s.step_id === 'fetch');
    // The first levels as they were, the rest (below MAX_STORED_JSON_DEPTH of the column) as its text.
    expect(jsonDepth(stored.step_executions)).toBeLessThanOrEqual(MAX_STORED_JSON_DEPTH);
    for (const kept of [step?.output, step?.extracted.whole]) {
      let node = kept;
      let levels = 0;
      while (Array.isArray(node)) [node, levels] = [node[0], levels + 1];
      expect(levels).toBeGreaterThan(0);
      expect(node).toBe('['.repeat(20_000 - levels) + ']'.repeat(20_000 - levels));
    }
  });

  it('skips an event PostgreSQL refuses: the row shows projection_error, the failure is counted, and the next event applies', async () => {
    const x = await newExecution();
    const other = await newExecution();
    const T0 = '2026-04-01T12:00:00.000Z';
    const before = projector.failures;
    failures.length = 0;
    // A time JavaScript parses but timestamptz cannot hold (year 0): no edge rule can make it storable.
    const unstorable = x.e.parked(4, at(T0, 30), { stepId: 'wait', reason: 'webhook', expiresAt: '0000-01-01T00:00:00.000Z' });
    const [queued, started, stepStarted] = [
      x.e.queued(T0, { job: workflowSnapshot('refused'), trigger: 'manual' }),
      x.e.started(2, at(T0, 10), {}),
      x.e.stepStarted(3, at(T0, 20), { id: 'wait', type: 'wait_for_webhook', index: 1, input: null }),
    ];
    for (const event of [queued, started, stepStarted]) expect(await deliver(event)).toEqual(ACK);

    // In one batch with another execution's events, which must apply untouched.
    const otherEvents = [other.e.queued(T0, { job: jobSnapshot('neighbour', 'one_time'), trigger: 'manual' }), other.e.started(2, at(T0, 5))];
    expect(await deliverBatch([otherEvents[0], unstorable, otherEvents[1]])).toEqual([ACK, ACK, ACK]);

    const skippedRow = await row(x.executionId);
    expect(skippedRow).toMatchObject({ status: 'running', position: 4, waiting_reason: null });
    expect(skippedRow.projection_error).toEqual({
      code: 'projection_failed',
      event_type: 'ExecutionParked',
      position: 4,
      skipped_events: 1,
      message: expect.stringContaining('SQLSTATE 22008'),
    });
    // The reason never carries the row's values.
    expect(JSON.stringify(skippedRow.projection_error)).not.toContain('0000-01-01');
    expect(await row(other.executionId)).toMatchObject({ status: 'running', position: 2, projection_error: null });
    expect(projector.failures).toBe(before + 1);
    expect(failures).toEqual([expect.objectContaining({ executionId: x.executionId, eventType: 'ExecutionParked', position: 4 })]);

    // The projection goes on with the next event.
    expect(await deliver(x.e.resumed(5, at(T0, 40), { stepId: 'wait', via: 'resume', payload: { ok: true } }))).toEqual(ACK);
    expect(await deliver(x.e.failed(6, at(T0, 50), { code: 'step_failed', message: 'done' }))).toEqual(ACK);
    const served = await queries.get(x.workspaceId, x.executionId);
    expect(served).toMatchObject({
      status: 'failed',
      error: { code: 'step_failed' },
      projection_error: { code: 'projection_failed', event_type: 'ExecutionParked', position: 4 },
    });
    expect(projector.failures).toBe(before + 1);
  });

  it('skips only the refused event when the events around it arrive in the same batch', async () => {
    const x = await newExecution();
    const T0 = '2026-04-01T12:30:00.000Z';
    const before = projector.failures;
    const batch = [
      x.e.queued(T0, { job: workflowSnapshot('batched'), trigger: 'manual' }),
      x.e.started(2, at(T0, 10), {}),
      x.e.stepStarted(3, at(T0, 20), { id: 'wait', type: 'wait_for_webhook', index: 1, input: null }),
      x.e.parked(4, at(T0, 30), { stepId: 'wait', reason: 'webhook', expiresAt: '0000-01-01T00:00:00.000Z' }),
      // Would keep the refused time in the row, had the parked event applied.
      x.e.attempt(5, at(T0, 40), attemptRecord(1, at(T0, 35)), null, 'fetch'),
    ];
    expect(await deliverBatch(batch)).toEqual(batch.map(() => ACK));
    const stored = await row(x.executionId);
    expect(stored).toMatchObject({ status: 'running', position: 5, waiting_reason: null, projection_error: { event_type: 'ExecutionParked', position: 4, skipped_events: 1 } });
    const steps = stored.step_executions as Array<{ step_id: string; status: string; attempts: unknown[] }>;
    expect(steps.find((s) => s.step_id === 'wait')?.status).toBe('running');
    expect(steps.find((s) => s.step_id === 'fetch')?.attempts).toHaveLength(1);
    expect(projector.failures).toBe(before + 1);
  });

  it('retries a transient database error instead of skipping the event', async () => {
    const x = await newExecution();
    const T0 = '2026-04-01T13:00:00.000Z';
    expect(await deliver(x.e.queued(T0, { job: jobSnapshot('locked', 'one_time'), trigger: 'manual' }))).toEqual(ACK);
    // Its own connections give up on a lock after 200 ms (55P03 lock_not_available: not the row's data).
    await db.sql.query(`alter database "${db.name}" set lock_timeout = '200ms'`);
    const impatient = await createOrm({ url: db.url, entities: [] });
    const before = projector.failures;
    const holder = db.sql;
    await holder.query('begin');
    await holder.query('select id from executions where id = $1 for update', [x.executionId]);
    try {
      const retried = new ExecutionProjector(impatient, { onFailure: (f) => failures.push(f) });
      const started = x.e.started(2, at(T0, 10));
      await expect(retried.handle(msgOf(started, ++lastSeq))).rejects.toThrow();
      expect(retried.failures).toBe(0);
      await holder.query('rollback');
      expect(await row(x.executionId)).toMatchObject({ status: 'queued', position: 1, projection_error: null });
      // The redelivery (the consumer naks a throwing batch) applies it.
      expect(await retried.handle(msgOf(started, lastSeq))).toEqual(ACK);
      expect(await row(x.executionId)).toMatchObject({ status: 'running', position: 2, projection_error: null });
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await impatient.close(true);
      await db.sql.query(`alter database "${db.name}" reset lock_timeout`);
    }
    expect(projector.failures).toBe(before);
  });
});
