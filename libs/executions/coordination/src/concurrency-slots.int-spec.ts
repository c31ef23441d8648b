import { randomBytes } from 'node:crypto';
import { createScratchDatabase, type ScratchDatabase } from '@trigrun/database/testing';
import { ConcurrencySlots, type SlotHolder } from './concurrency-slots';

/** max_concurrent_executions against the real PostgreSQL: FIFO admission, races, idempotent release. */
const ADMIN_URL = process.env.TRIGRUN_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NOW = new Date('2026-06-01T12:00:00.000Z');
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

describe('ConcurrencySlots (real PostgreSQL)', () => {
  let db: ScratchDatabase;
  let slots: ConcurrencySlots;
  let jobId: string;
  const workspaceId = 'ws_slots';

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, []);
    slots = new ConcurrencySlots(db.orm);
  });

  beforeEach(() => {
    // Each test has its own job: its rows and its advisory lock are its own.
    jobId = `job_${randomBytes(6).toString('hex')}`;
  });

  afterAll(async () => {
    await db?.dispose();
  });

  /** Executions `<prefix>0..n-1` of the job, queued one second apart (stream sequences 1..n). */
  const executions = (n: number, prefix = 'exe') =>
    Array.from({ length: n }, (_, i) => ({ id: `${prefix}_${jobId}_${i}`, queuedAt: at(i * 1_000), queueSeq: i + 1 }));
  type Queued = { id: string; queuedAt: Date; queueSeq: number };
  const acquire = (e: Queued, cap: number) => slots.acquire({ executionId: e.id, jobId, workspaceId, queuedAt: e.queuedAt, queueSeq: e.queueSeq, cap });
  const holder = (e: { id: string }): SlotHolder => ({ executionId: e.id, jobId, workspaceId });
  const states = async () =>
    Object.fromEntries(
      (await db.sql.query<{ execution_id: string; state: string }>('select execution_id, state from execution_slots where job_id = $1', [jobId])).rows.map((r) => [
        r.execution_id,
        r.state,
      ]),
    );
  const active = async () => Object.entries(await states()).filter(([, s]) => s === 'active').map(([id]) => id).sort();

  it('cap 1: the first is admitted, the rest wait and start one by one in queued order', async () => {
    const [a, b, c, d] = executions(4);
    // Acquired out of order: the queue is by the stream sequence of ExecutionQueued, not by arrival.
    expect(await acquire(a!, 1)).toEqual({ admitted: true, alsoAdmitted: [] });
    expect(await acquire(d!, 1)).toEqual({ admitted: false, alsoAdmitted: [] });
    expect(await acquire(c!, 1)).toEqual({ admitted: false, alsoAdmitted: [] });
    expect(await acquire(b!, 1)).toEqual({ admitted: false, alsoAdmitted: [] });

    expect(await slots.release(a!.id, jobId, 1)).toEqual([holder(b!)]);
    expect(await slots.release(b!.id, jobId, 1)).toEqual([holder(c!)]);
    expect(await slots.release(c!.id, jobId, 1)).toEqual([holder(d!)]);
    expect(await slots.release(d!.id, jobId, 1)).toEqual([]);
    expect(await states()).toEqual({});
  });

  it('cap 2: two run at once; each release admits the oldest waiting by stream sequence, whatever queued_at and the ids say', async () => {
    const [a, b, c] = executions(3);
    // Queued in the same millisecond, and the later one has the smaller (random) id.
    const tiedLater = { id: `exe_${jobId}_a_later`, queuedAt: at(10_000), queueSeq: 11 };
    const tiedEarlier = { id: `exe_${jobId}_z_earlier`, queuedAt: at(10_000), queueSeq: 10 };
    expect((await acquire(a!, 2)).admitted).toBe(true);
    expect((await acquire(b!, 2)).admitted).toBe(true);
    expect((await acquire(tiedLater, 2)).admitted).toBe(false);
    expect((await acquire(tiedEarlier, 2)).admitted).toBe(false);
    expect((await acquire(c!, 2)).admitted).toBe(false);

    expect(await slots.release(b!.id, jobId, 2)).toEqual([holder(c!)]);
    expect(await active()).toEqual([a!.id, c!.id].sort());
    expect(await slots.release(a!.id, jobId, 2)).toEqual([holder(tiedEarlier)]);
    expect(await slots.release(c!.id, jobId, 2)).toEqual([holder(tiedLater)]);
    expect(await active()).toEqual([tiedEarlier.id, tiedLater.id].sort());
  });

  it('a parked execution keeps its slot: nothing is admitted until it releases', async () => {
    const [parked, next] = executions(2);
    await acquire(parked!, 1);
    expect((await acquire(next!, 1)).admitted).toBe(false);
    // Nothing but a release frees a slot; a repeated acquire by the waiter does not.
    expect((await acquire(next!, 1)).admitted).toBe(false);
    expect(await states()).toEqual({ [parked!.id]: 'active', [next!.id]: 'queued' });
  });

  it('acquire is idempotent: a repeat keeps the first place in the queue and reports the same answer', async () => {
    const [a, b, c] = executions(3);
    await acquire(a!, 1);
    await acquire(b!, 1);
    await acquire(c!, 1);
    // b asks again with a later queued_at (a retried delivery): its place is the first one.
    expect(await acquire({ id: b!.id, queuedAt: at(60_000), queueSeq: 60 }, 1)).toEqual({ admitted: false, alsoAdmitted: [] });
    expect(await acquire(a!, 1)).toEqual({ admitted: true, alsoAdmitted: [] });
    expect(await slots.release(a!.id, jobId, 1)).toEqual([holder(b!)]);
    expect(await acquire(b!, 1)).toEqual({ admitted: true, alsoAdmitted: [] });
  });

  it('20 concurrent acquires with cap 3 leave exactly 3 active, then all run in queued order', async () => {
    const all = executions(20);
    const results = await Promise.all(all.map((e) => acquire(e, 3)));
    expect(results.filter((r) => r.admitted)).toHaveLength(3);
    expect(await active()).toHaveLength(3);
    expect(Object.values(await states()).filter((s) => s === 'queued')).toHaveLength(17);

    // Which three won the race depends on arrival; from then on the rest start in queued order.
    const started = new Set(await active());
    const startOrder: string[] = [];
    const running = [...started];
    while (running.length > 0) {
      const done = running.shift()!;
      for (const h of await slots.release(done, jobId, 3)) {
        startOrder.push(h.executionId);
        running.push(h.executionId);
      }
      expect((await active()).length).toBeLessThanOrEqual(3);
    }
    const waiting = all.map((e) => e.id).filter((id) => !started.has(id));
    expect(startOrder).toEqual(waiting);
    expect(await states()).toEqual({});
  });

  it('release is idempotent: a repeat returns the same holders and admits nobody new', async () => {
    const [a, b, c, d, e] = executions(5);
    for (const x of [a, b, c, d, e]) await acquire(x!, 2);
    expect(await active()).toEqual([a!.id, b!.id].sort());

    expect(await slots.release(a!.id, jobId, 2)).toEqual([holder(c!)]);
    // The caller crashed before starting c; its retry is told to start c again, and only c.
    expect(await slots.release(a!.id, jobId, 2)).toEqual([holder(c!)]);
    expect(await active()).toEqual([b!.id, c!.id].sort());
    expect(await states()).toMatchObject({ [d!.id]: 'queued', [e!.id]: 'queued' });

    // Once c has itself released, a's repeat has nobody left to hand over.
    expect(await slots.release(c!.id, jobId, 2)).toEqual([holder(d!)]);
    expect(await slots.release(a!.id, jobId, 2)).toEqual([]);
    expect(await active()).toEqual([b!.id, d!.id].sort());
  });

  it('a raised cap lets an acquire admit the waiters ahead of it, but none behind it', async () => {
    const [a, b, c, d, e] = executions(5);
    for (const x of [a, b, c]) await acquire(x!, 1);
    await acquire(e!, 1);
    // The job's cap went from 1 to 4; d arrives: b and c are ahead of it, e is behind.
    expect(await acquire(d!, 4)).toEqual({ admitted: true, alsoAdmitted: [holder(b!), holder(c!)] });
    expect(await states()).toEqual({ [a!.id]: 'active', [b!.id]: 'active', [c!.id]: 'active', [d!.id]: 'active', [e!.id]: 'queued' });
    // A repeat (d's caller crashed before starting b and c) hands them over again.
    expect(await acquire(d!, 4)).toEqual({ admitted: true, alsoAdmitted: [holder(b!), holder(c!)] });
  });

  it('a lowered cap admits nobody until the active ones drop below it', async () => {
    const [a, b, c, d] = executions(4);
    for (const x of [a, b, c]) await acquire(x!, 3);
    await acquire(d!, 3);
    expect(await slots.release(a!.id, jobId, 1)).toEqual([]);
    expect(await slots.release(b!.id, jobId, 1)).toEqual([]);
    expect(await slots.release(c!.id, jobId, 1)).toEqual([holder(d!)]);
  });

  it('releasing a queued execution gives up its place without admitting anyone over the cap', async () => {
    const [a, b, c] = executions(3);
    for (const x of [a, b, c]) await acquire(x!, 1);
    expect(await slots.release(b!.id, jobId, 1)).toEqual([]);
    expect(await slots.release(a!.id, jobId, 1)).toEqual([holder(c!)]);
  });

  it('refuses a cap below 1 (0 means unlimited and never comes here)', async () => {
    const [a] = executions(1);
    await expect(acquire(a!, 0)).rejects.toThrow(RangeError);
    await expect(slots.release(a!.id, jobId, 0)).rejects.toThrow(RangeError);
  });
});
