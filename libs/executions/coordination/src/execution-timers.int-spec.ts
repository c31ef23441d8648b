import { randomBytes } from 'node:crypto';
import { createScratchDatabase, type ScratchDatabase } from '@trigrun/database/testing';
import { ExecutionTimers, type TimerRow } from './execution-timers';

/** Durable timers against the real PostgreSQL: upsert, claims shared by replicas, failures, races. */
const ADMIN_URL = process.env.TRIGRUN_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NOW = new Date('2026-06-01T12:00:00.000Z');
const seconds = (n: number) => n * 1_000;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

describe('ExecutionTimers (real PostgreSQL)', () => {
  let db: ScratchDatabase;
  let timers: ExecutionTimers;
  let warnings: { message: string; meta?: object }[];
  let jobId: string;
  const workspaceId = 'ws_timers';

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, []);
  });

  beforeEach(async () => {
    // Each test owns its rows: everything due is removed, and its ids are unique.
    await db.sql.query('delete from execution_timers');
    warnings = [];
    jobId = `job_${randomBytes(6).toString('hex')}`;
    timers = new ExecutionTimers(db.orm, { logger: { warn: (message, meta) => warnings.push({ message, meta }) } });
  });

  afterAll(async () => {
    await db?.dispose();
  });

  const exec = () => `exe_${randomBytes(6).toString('hex')}`;
  const schedule = (executionId: string, dueAt: Date) => timers.schedule({ executionId, jobId, workspaceId, dueAt });
  const rowOf = async (executionId: string) =>
    (await db.sql.query<{ job_id: string; due_at: Date }>('select job_id, due_at from execution_timers where execution_id = $1', [executionId])).rows[0];
  const fireAll = (now: Date, limit: number, fire: (t: TimerRow) => Promise<void>) => timers.fireDue(now, limit, fire);

  it('keeps one timer per execution: a later schedule replaces the deadline, cancel removes it', async () => {
    const id = exec();
    await schedule(id, at(seconds(30)));
    await schedule(id, at(seconds(90)));
    expect(await rowOf(id)).toEqual({ job_id: jobId, due_at: at(seconds(90)) });
    expect((await db.sql.query('select count(*)::int as n from execution_timers where execution_id = $1', [id])).rows[0].n).toBe(1);

    await timers.cancel(id);
    expect(await rowOf(id)).toBeUndefined();
    await expect(timers.cancel(id)).resolves.toBeUndefined();
  });

  it('fires only what is due, earliest first, up to the limit, and deletes what fired', async () => {
    const ids = [exec(), exec(), exec()];
    await schedule(ids[0]!, at(-seconds(1)));
    await schedule(ids[1]!, at(-seconds(3)));
    await schedule(ids[2]!, at(-seconds(2)));
    const later = exec();
    await schedule(later, at(seconds(1)));

    const fired: TimerRow[] = [];
    expect(await fireAll(NOW, 2, async (t) => void fired.push(t))).toBe(2);
    expect(fired).toEqual([
      { execution_id: ids[1], job_id: jobId, workspace_id: workspaceId, due_at: at(-seconds(3)) },
      { execution_id: ids[2], job_id: jobId, workspace_id: workspaceId, due_at: at(-seconds(2)) },
    ]);
    expect(await fireAll(NOW, 2, async (t) => void fired.push(t))).toBe(1);
    expect(fired.map((t) => t.execution_id)).toEqual([ids[1], ids[2], ids[0]]);
    expect(await fireAll(NOW, 10, async () => undefined)).toBe(0);
    expect(await rowOf(later)).toEqual({ job_id: jobId, due_at: at(seconds(1)) });
    expect((await db.sql.query('select count(*)::int as n from execution_timers')).rows[0].n).toBe(1);
  });

  it('fires each row once when two replicas fire at the same time', async () => {
    const ids = Array.from({ length: 120 }, exec);
    await Promise.all(ids.map((id, i) => schedule(id, at(-i))));
    const calls = new Map<string, number>();
    const fire = async (t: TimerRow) => {
      calls.set(t.execution_id, (calls.get(t.execution_id) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 2));
    };
    const replica = async () => {
      let total = 0;
      for (let n = -1; n !== 0; total += n) n = await new ExecutionTimers(db.orm, { concurrency: 4 }).fireDue(NOW, 15, fire);
      return total;
    };
    const [a, b] = await Promise.all([replica(), replica()]);
    expect(a + b).toBe(120);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect([...calls.keys()].sort()).toEqual([...ids].sort());
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    expect((await db.sql.query('select count(*)::int as n from execution_timers')).rows[0].n).toBe(0);
  });

  it('keeps the row of a fire that throws, due as before, without undoing the others', async () => {
    const [ok1, bad, ok2] = [exec(), exec(), exec()];
    for (const id of [ok1, bad, ok2]) await schedule(id, at(-seconds(1)));

    const fired = await fireAll(NOW, 10, async (t) => {
      if (t.execution_id === bad) throw new Error('nats unavailable');
    });
    expect(fired).toBe(2);
    expect(await rowOf(ok1)).toBeUndefined();
    expect(await rowOf(ok2)).toBeUndefined();
    expect(await rowOf(bad)).toEqual({ job_id: jobId, due_at: at(-seconds(1)) });
    expect(warnings).toEqual([{ message: expect.stringContaining('failed'), meta: { execution_id: bad, error: 'nats unavailable' } }]);

    // The next tick fires it again.
    const again: string[] = [];
    expect(await fireAll(NOW, 10, async (t) => void again.push(t.execution_id))).toBe(1);
    expect(again).toEqual([bad]);
    expect(await rowOf(bad)).toBeUndefined();
  });

  it('keeps a timer rescheduled while it fires, even to the same deadline, and drops one cancelled', async () => {
    const [later, same, cancelled] = [exec(), exec(), exec()];
    for (const id of [later, same, cancelled]) await schedule(id, at(-seconds(1)));

    // schedule and cancel do not wait for the batch: the engine may call them from inside a fire.
    const fired = await fireAll(NOW, 10, async (t) => {
      if (t.execution_id === later) await schedule(later, at(seconds(60)));
      if (t.execution_id === same) await schedule(same, t.due_at);
      if (t.execution_id === cancelled) await timers.cancel(cancelled);
    });
    expect(fired).toBe(3);
    expect(await rowOf(later)).toEqual({ job_id: jobId, due_at: at(seconds(60)) });
    expect(await rowOf(same)).toEqual({ job_id: jobId, due_at: at(-seconds(1)) });
    expect(await rowOf(cancelled)).toBeUndefined();
  });

  it('keeps a timer rescheduled while its fire fails', async () => {
    const id = exec();
    await schedule(id, at(-seconds(1)));
    await fireAll(NOW, 10, async () => {
      await schedule(id, at(seconds(60)));
      throw new Error('boom');
    });
    expect(await rowOf(id)).toEqual({ job_id: jobId, due_at: at(seconds(60)) });
  });

  it('withholds a row being fired from other firers until its lease ends (a crashed firer)', async () => {
    const id = exec();
    await schedule(id, at(-seconds(1)));
    let release!: () => void;
    const firing = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const claimed = new Promise<void>((r) => (started = r));
    const stuck = new ExecutionTimers(db.orm, { leaseMs: seconds(30) }).fireDue(NOW, 10, async () => {
      started();
      await firing;
    });
    await claimed;

    const seen: string[] = [];
    expect(await fireAll(at(seconds(29)), 10, async (t) => void seen.push(t.execution_id))).toBe(0);
    // Past the lease the row is anyone's again: a firer that died does not lose the timer.
    expect(await fireAll(at(seconds(31)), 10, async (t) => void seen.push(t.execution_id))).toBe(1);
    expect(seen).toEqual([id]);

    release();
    expect(await stuck).toBe(1);
    expect(await rowOf(id)).toBeUndefined();
  });
});
