import { randomBytes } from 'node:crypto';
import type { JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { PgPositionStore } from '@trigrun/database';
import { createScratchDatabase, type ScratchDatabase } from '@trigrun/database/testing';
import {
  CONSUMERS,
  EVENT_TYPE_HEADER,
  type ExecutionEvent,
  type ExecutionTrigger,
  type JobKind,
  executionSubjects,
} from '@trigrun/execution-contracts';
import { ExecutionStore } from '@trigrun/execution-store';
import { type Disposition, PositionedConsumerRunner, closeMessaging, connectMessaging, nakAfter, type Messaging } from '@trigrun/messaging';
import { ulid } from '@trigrun/util';
import { JOB_ENTITIES } from './index';
import { JobsReaction } from './jobs.reaction';
import { declareJobsTopology } from './jobs.topology';

/**
 * The jobs reaction against the real PostgreSQL and NATS: its own positioned consumer on the
 * executions stream, the histories it reads from the event store, redelivery and races.
 */
const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';
const ADMIN_URL = process.env.TRIGRUN_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ACK: Disposition = { type: 'ack' };
const at = (iso: string, plusMs: number) => new Date(Date.parse(iso) + plusMs).toISOString();
const encoder = new TextEncoder();

describe('JobsReaction (real PostgreSQL and NATS)', () => {
  const namespace = `jrx${randomBytes(4).toString('hex')}`;
  const subjects = executionSubjects(namespace);
  let db: ScratchDatabase;
  let messaging: Messaging;
  let store: ExecutionStore;
  let reaction: JobsReaction;
  let workspaceId: string;

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, JOB_ENTITIES);
    // Test-only audit of every committed write to a job row, and of each move to `completed`:
    // "completed exactly once" is countable, which the final row alone cannot show.
    await db.sql.query(`
      create table it_job_writes (n bigserial primary key, job_id text not null, old_state text not null, new_state text not null);
      create function it_record_job_write() returns trigger language plpgsql as $$
        begin insert into it_job_writes (job_id, old_state, new_state) values (new.id, old.state, new.state); return new; end $$;
      create trigger it_job_writes after update on jobs for each row execute function it_record_job_write();
    `);
    messaging = await connectMessaging(NATS_URL, 'jobs-reaction-spec');
    const topology = { namespace, replicas: 1, ackWaitMs: 30_000, retentionDays: 1 };
    await declareJobsTopology(messaging.jsm, topology);
    store = new ExecutionStore(messaging.js, messaging.jsm, namespace);
    reaction = new JobsReaction(db.orm, store);
  });

  beforeEach(async () => {
    workspaceId = `ws_${randomBytes(6).toString('hex')}`;
    await db.sql.query("insert into workspaces (id, name, timezone, created_at) values ($1, 'w', 'UTC', now())", [workspaceId]);
  });

  afterAll(async () => {
    for await (const s of messaging.jsm.streams.list()) {
      if (s.config.name.startsWith(`${namespace.toUpperCase()}_`)) await messaging.jsm.streams.delete(s.config.name);
    }
    await closeMessaging(messaging);
    await db.dispose();
  });

  async function seedJob(kind: JobKind, state: string, schedule: object | null = null): Promise<string> {
    const id = `job_${ulid()}`;
    await db.sql.query(
      `insert into jobs (id, workspace_id, name, kind, state, schedule, retry_policy, max_concurrent_executions, next_run_at, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $9)`,
      [id, workspaceId, `job-${kind}`, kind, state, schedule && JSON.stringify(schedule), JSON.stringify({ max_attempts: 1, retry_on_statuses: [] }), '2026-03-15T09:59:00.000Z', '2026-03-01T00:00:00.000Z'],
    );
    return id;
  }

  async function jobRow(id: string) {
    const { rows } = await db.sql.query('select state, next_run_at, last_run_at, updated_at from jobs where id = $1', [id]);
    return rows[0] as { state: string; next_run_at: Date | null; last_run_at: Date | null; updated_at: Date };
  }

  async function completionsOf(id: string): Promise<number> {
    const { rows } = await db.sql.query("select count(*)::int as n from it_job_writes where job_id = $1 and new_state = 'completed' and old_state <> 'completed'", [id]);
    return rows[0].n;
  }

  async function writesOf(id: string): Promise<number> {
    const { rows } = await db.sql.query('select count(*)::int as n from it_job_writes where job_id = $1', [id]);
    return rows[0].n;
  }

  /** A run's history as the engine stores it: queued → started → attempt → succeeded|failed. */
  function run(jobId: string, opts: { kind: JobKind; trigger: ExecutionTrigger; queuedAt: string; outcome?: 'succeeded' | 'failed' }): ExecutionEvent[] {
    const executionId = `exec_${ulid(Date.parse(opts.queuedAt))}`;
    const base = (position: number, occurredAt: string) => ({
      version: 1,
      id: `evt_${ulid()}`,
      execution_id: executionId,
      job_id: jobId,
      workspace_id: workspaceId,
      occurred_at: occurredAt,
      position,
    });
    const startedAt = at(opts.queuedAt, 50);
    const endedAt = at(opts.queuedAt, 900);
    const request = { url: 'https://example.com/hook', method: 'POST', headers: {}, timeout_seconds: 30, success_statuses: [200] };
    const job = { name: `job-${opts.kind}`, kind: opts.kind, request, retry_policy: { max_attempts: 1, retry_on_statuses: [] } };
    const attempt = { number: 1, status: 'SUCCESS', statusCode: 200, latencyMs: 5, bodyPreview: 'ok', responseHeaders: {}, errorClass: null, errorMessage: null, startedAt };
    return [
      { ...base(1, opts.queuedAt), type: 'ExecutionQueued', data: { job, trigger: opts.trigger, scheduled_for: null, replay_of: null, trigger_input: null } },
      { ...base(2, startedAt), type: 'ExecutionStarted', data: { variables: { timestamp: startedAt, uuid: '00000000-0000-4000-8000-000000000000', execution_id: executionId } } },
      { ...base(3, startedAt), type: 'AttemptRecorded', data: { step_id: null, attempt, next_attempt_at: null } },
      opts.outcome === 'failed'
        ? { ...base(4, endedAt), type: 'ExecutionFailed', data: { error: { code: 'http_error', message: 'HTTP 500' } } }
        : { ...base(4, endedAt), type: 'ExecutionSucceeded', data: { final_output: null } },
    ] as ExecutionEvent[];
  }

  /** Appends the events to the executions stream (as the engine does: msg id, event type header); returns their messages as a consumer would see them. */
  async function append(events: readonly ExecutionEvent[]): Promise<JsMsg[]> {
    const msgs: JsMsg[] = [];
    for (const event of events) {
      const h = natsHeaders();
      h.set(EVENT_TYPE_HEADER, event.type);
      const data = encoder.encode(JSON.stringify(event));
      const { seq } = await messaging.js.publish(subjects.forExecution(event.execution_id), data, { msgID: `${event.execution_id}:${event.position}`, headers: h });
      msgs.push({ data, seq, headers: h } as unknown as JsMsg);
    }
    return msgs;
  }

  const deliver = (msgs: readonly JsMsg[]) => reaction.handleBatch(msgs.map((msg) => ({ msg, deliveryCount: 1 })));

  it('completes a one_time job exactly once through its own positioned consumer, also when its end is delivered twice', async () => {
    const jobId = await seedJob('one_time', 'active');
    const T0 = '2026-03-15T12:00:00.000Z';
    const history = run(jobId, { kind: 'one_time', trigger: 'schedule', queuedAt: T0 });
    const end = history[3];
    // The batch holding the end is handled, then asked for again once: the consumer reads it a second time.
    const seen = new Map<number, number>();
    const runner = new PositionedConsumerRunner({
      js: messaging.js,
      jsm: messaging.jsm,
      stream: subjects.stream,
      name: CONSUMERS.schedulerJobs,
      store: new PgPositionStore(db.orm),
      maxBatch: 16,
      maxWaitMs: 20,
      retryDelayMs: { min: 50, max: 200 },
      logger: { error: () => undefined, warn: () => undefined, log: () => undefined },
      handler: async (deliveries) => {
        const dispositions = await reaction.handleBatch(deliveries);
        return deliveries.map(({ msg }, i) => {
          const isEnd = msg.headers?.get(EVENT_TYPE_HEADER) === end.type && (JSON.parse(new TextDecoder().decode(msg.data)) as ExecutionEvent).job_id === jobId;
          const count = (seen.get(msg.seq) ?? 0) + 1;
          seen.set(msg.seq, count);
          return isEnd && count === 1 ? nakAfter(0) : dispositions[i];
        });
      },
    });
    await runner.start();
    try {
      await append(history);
      const deadline = Date.now() + 15_000;
      while ([...seen.values()].filter((n) => n >= 2).length === 0 || (await jobRow(jobId)).state !== 'completed') {
        if (Date.now() > deadline) throw new Error('the job was not completed through the consumer');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await runner.stop(5_000);
    }
    expect(Math.max(...seen.values())).toBeGreaterThanOrEqual(2);
    expect(await jobRow(jobId)).toEqual({ state: 'completed', next_run_at: null, last_run_at: new Date(at(T0, 50)), updated_at: new Date(at(T0, 900)) });
    expect(await completionsOf(jobId)).toBe(1);
  }, 30_000);

  it('changes nothing when events are delivered again, in or out of order, or by two reactions at once', async () => {
    const jobId = await seedJob('one_time', 'active');
    const T0 = '2026-03-15T13:00:00.000Z';
    const msgs = await append(run(jobId, { kind: 'one_time', trigger: 'schedule', queuedAt: T0 }));
    const other = new JobsReaction(db.orm, store);
    const both = await Promise.all([deliver(msgs), other.handleBatch(msgs.map((msg) => ({ msg, deliveryCount: 1 })))]);
    expect(both).toEqual([msgs.map(() => ACK), msgs.map(() => ACK)]);
    const done = await jobRow(jobId);
    expect(done).toMatchObject({ state: 'completed', last_run_at: new Date(at(T0, 50)) });
    for (const order of [[3, 0, 2, 1], [1], [3]]) expect(await deliver(order.map((i) => msgs[i]))).toEqual(order.map(() => ACK));
    expect(await jobRow(jobId)).toEqual(done);
    expect(await completionsOf(jobId)).toBe(1);
  });

  it('sets last_run_at when an execution starts, never moving it back', async () => {
    const jobId = await seedJob('recurring', 'active', { every_n_minutes: 5 });
    const early = run(jobId, { kind: 'recurring', trigger: 'schedule', queuedAt: '2026-03-15T14:00:00.000Z' });
    const late = run(jobId, { kind: 'recurring', trigger: 'schedule', queuedAt: '2026-03-15T14:05:00.000Z' });
    const [earlyQueued, earlyStarted] = await append(early.slice(0, 2));
    const lateMsgs = await append(late.slice(0, 2));

    expect(await deliver([earlyQueued])).toEqual([ACK]);
    expect((await jobRow(jobId)).last_run_at).toBeNull();
    expect(await writesOf(jobId)).toBe(0);

    expect(await deliver(lateMsgs)).toEqual([ACK, ACK]);
    expect((await jobRow(jobId)).last_run_at).toEqual(new Date('2026-03-15T14:05:00.050Z'));

    // The earlier execution's start comes later: last_run_at keeps the latest start.
    expect(await deliver([earlyStarted])).toEqual([ACK]);
    expect(await jobRow(jobId)).toMatchObject({ state: 'active', last_run_at: new Date('2026-03-15T14:05:00.050Z') });
  });

  it.each<[JobKind, ExecutionTrigger, string, 'succeeded' | 'failed', string, object | null]>([
    ['one_time', 'schedule', 'active', 'succeeded', 'completed', null],
    ['one_time', 'schedule', 'active', 'failed', 'completed', null],
    ['one_time', 'schedule', 'paused', 'succeeded', 'paused', null],
    ['one_time', 'manual', 'active', 'succeeded', 'active', null],
    ['one_time', 'replay', 'active', 'succeeded', 'active', null],
    ['scheduled', 'schedule', 'active', 'succeeded', 'completed', { run_at: '2026-03-15T15:00:00.000Z' }],
    ['scheduled', 'manual', 'active', 'failed', 'active', { run_at: '2026-03-15T15:00:00.000Z' }],
    ['workflow', 'schedule', 'active', 'succeeded', 'completed', { run_at: '2026-03-15T15:00:00.000Z' }],
    ['workflow', 'schedule', 'active', 'succeeded', 'active', { every_n_minutes: 5 }],
    ['recurring', 'schedule', 'active', 'succeeded', 'active', { every_n_minutes: 5 }],
  ])('a %s job (%s trigger, %s) whose execution %s ends %s (schedule %j)', async (kind, trigger, state, outcome, expectedState, schedule) => {
    const jobId = await seedJob(kind, state, schedule);
    const T0 = '2026-03-15T15:00:00.000Z';
    const msgs = await append(run(jobId, { kind, trigger, queuedAt: T0, outcome }));
    const before = await jobRow(jobId);

    expect(await deliver(msgs.slice(0, 3))).toEqual([ACK, ACK, ACK]);
    const running = await jobRow(jobId);
    expect(running).toMatchObject({ state, next_run_at: before.next_run_at, last_run_at: new Date(at(T0, 50)) });

    expect(await deliver(msgs.slice(3))).toEqual([ACK]);
    const after = await jobRow(jobId);
    expect(after.state).toBe(expectedState);
    if (expectedState === 'completed') {
      expect(after).toMatchObject({ next_run_at: null, updated_at: new Date(at(T0, 900)) });
      expect(await completionsOf(jobId)).toBe(1);
    } else {
      expect(after).toEqual(running);
    }
  });

  it('completes the job with its start recorded even when the end is handled before the start', async () => {
    const jobId = await seedJob('one_time', 'active');
    const T0 = '2026-03-15T16:00:00.000Z';
    const msgs = await append(run(jobId, { kind: 'one_time', trigger: 'schedule', queuedAt: T0 }));
    // Another replica holds the start: this one sees the end first.
    expect(await deliver([msgs[3]])).toEqual([ACK]);
    expect(await jobRow(jobId)).toMatchObject({ state: 'completed', last_run_at: new Date(at(T0, 50)), updated_at: new Date(at(T0, 900)) });
    expect(await deliver([msgs[1]])).toEqual([ACK]);
    expect((await jobRow(jobId)).last_run_at).toEqual(new Date(at(T0, 50)));
  });

  it('reads no history for the end of a run whose ExecutionQueued and ExecutionStarted it saw go by', async () => {
    const jobId = await seedJob('one_time', 'active');
    const T0 = '2026-03-15T16:30:00.000Z';
    const msgs = await append(run(jobId, { kind: 'one_time', trigger: 'schedule', queuedAt: T0 }));
    const reads: string[] = [];
    const sighted = new JobsReaction(db.orm, { opening: (id) => (reads.push(id), Promise.reject(new Error('the event store is unreachable'))) });
    expect(await sighted.handleBatch(msgs.slice(0, 2).map((msg) => ({ msg, deliveryCount: 1 })))).toEqual([ACK, ACK]);
    expect(await sighted.handleBatch(msgs.slice(2).map((msg) => ({ msg, deliveryCount: 1 })))).toEqual(msgs.slice(2).map(() => ACK));
    expect(reads).toEqual([]);
    expect(await jobRow(jobId)).toMatchObject({ state: 'completed', last_run_at: new Date(at(T0, 50)), updated_at: new Date(at(T0, 900)) });
  });

  it('writes nothing for a batch that fails, and applies it whole when it comes again', async () => {
    const jobId = await seedJob('one_time', 'active');
    const T0 = '2026-03-15T17:00:00.000Z';
    const msgs = await append(run(jobId, { kind: 'one_time', trigger: 'schedule', queuedAt: T0 }));
    const unreachable = new JobsReaction(db.orm, { opening: () => Promise.reject(new Error('the event store is unreachable')) });
    // Without the run's ExecutionQueued in sight, its end must read the history, which fails.
    await expect(unreachable.handleBatch(msgs.slice(1).map((msg) => ({ msg, deliveryCount: 1 })))).rejects.toThrow('unreachable');
    expect(await writesOf(jobId)).toBe(0);
    expect(await deliver(msgs)).toEqual(msgs.map(() => ACK));
    expect(await jobRow(jobId)).toMatchObject({ state: 'completed', last_run_at: new Date(at(T0, 50)) });
  });

  it('terminates a message it cannot read, and acks the events that do not move a job unread', async () => {
    const jobId = await seedJob('one_time', 'active');
    const garbage = { data: encoder.encode('{"type":"ExecutionSucceeded",'), seq: 1 } as unknown as JsMsg;
    const h = natsHeaders();
    h.set(EVENT_TYPE_HEADER, 'AttemptRecorded');
    const unreadButIrrelevant = { data: encoder.encode('not json'), seq: 2, headers: h } as unknown as JsMsg;
    const dispositions = await deliver([garbage, unreadButIrrelevant]);
    expect(dispositions[0]).toMatchObject({ type: 'term' });
    expect(dispositions[1]).toEqual(ACK);
    expect(await writesOf(jobId)).toBe(0);
  });
});
