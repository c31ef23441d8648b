import { randomUUID } from 'node:crypto';
import { PgPositionStore } from '@trigrun/database';
import { createScratchDatabase, type ScratchDatabase } from '@trigrun/database/testing';
import { closeMessaging, connectMessaging, type Messaging } from './connection';
import { type BatchHandler, type Disposition, ack, nakAfter, term } from './consumer';
import { PositionedConsumerRunner, type PositionedConsumerOptions } from './positioned-consumer';
import { ensureStream } from './streams';

const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';
const ADMIN_URL = process.env.TRIGRUN_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

jest.setTimeout(60_000);

/**
 * The positioned consumer against the real NATS and PostgreSQL: it reads in order from the
 * position it recorded, survives a restart without losing or skipping a message, reads a failed
 * batch again, dead-letters what its handler terminates, lets one replica read at a time (and
 * another take over), and reads a recreated stream from its start.
 */
describe('PositionedConsumerRunner (real NATS and PostgreSQL)', () => {
  let db: ScratchDatabase;
  let messaging: Messaging;
  let store: PgPositionStore;
  const runners: PositionedConsumerRunner[] = [];
  let ns: string;
  let stream: string;
  const quiet = { error: () => undefined, warn: () => undefined, log: () => undefined };

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, []);
    store = new PgPositionStore(db.orm);
    messaging = await connectMessaging(NATS_URL, 'positioned-consumer-spec');
  });

  beforeEach(async () => {
    ns = `p${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    stream = `${ns.toUpperCase()}_POSITIONED`;
    await declare();
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop(2_000)));
    await messaging.jsm.streams.delete(stream).catch(() => undefined);
    await messaging.jsm.streams.delete(`${stream}_DLQ`).catch(() => undefined);
  });

  afterAll(async () => {
    await closeMessaging(messaging);
    await db.dispose();
  });

  const declare = async () => {
    await ensureStream(messaging.jsm, { name: stream, subjects: [`${ns}.msg.*`], duplicateWindowMs: 60_000 }, 1);
    await ensureStream(messaging.jsm, { name: `${stream}_DLQ`, subjects: [`${ns}.dlq.*`], duplicateWindowMs: 60_000 }, 1);
  };
  const publish = async (...bodies: string[]) => {
    for (const body of bodies) await messaging.js.publish(`${ns}.msg.a`, body);
  };
  const positionOf = async (name: string) => (await db.sql.query('select position from consumer_positions where name = $1', [name])).rows[0]?.position;

  function runner(handler: BatchHandler, overrides: Partial<PositionedConsumerOptions> = {}): PositionedConsumerRunner {
    const r = new PositionedConsumerRunner({
      js: messaging.js,
      jsm: messaging.jsm,
      stream,
      name: `${ns}-reader`,
      store,
      handler,
      maxBatch: 4,
      maxWaitMs: 20,
      leaseMs: 1_500,
      retryDelayMs: { min: 50, max: 200 },
      deadLetterSubject: `${ns}.dlq.reader`,
      logger: quiet,
      ...overrides,
    });
    runners.push(r);
    return r;
  }

  /** A handler that records what it saw and acks everything. */
  const recorder = (seen: string[]): BatchHandler => async (deliveries) => {
    seen.push(...deliveries.map(({ msg }) => msg.string()));
    return deliveries.map(() => ack());
  };

  it('reads every message in order, in batches, and records the position of the last one', async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    await publish('1', '2', '3', '4', '5', '6', '7');
    const r = runner(async (deliveries) => {
      sizes.push(deliveries.length);
      return recorder(seen)(deliveries);
    });
    await r.start();
    await waitFor(() => seen.length === 7);
    expect(seen).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    await waitFor(async () => Number(await positionOf(`${ns}-reader`)) === 7);
  });

  it('goes on after a restart from the position it recorded: nothing lost, nothing read twice', async () => {
    const seen: string[] = [];
    await publish('a', 'b', 'c');
    const first = runner(recorder(seen));
    await first.start();
    await waitFor(() => seen.length === 3);
    await first.stop(2_000);
    // Published while nobody reads.
    await publish('d', 'e');
    const second = runner(recorder(seen));
    await second.start();
    await waitFor(() => seen.length === 5);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('reads a batch that failed (a throw, or a nak) again, and only then moves on', async () => {
    const seen: string[] = [];
    let failures = 0;
    await publish('x', 'y');
    const r = runner(async (deliveries) => {
      if (failures === 0) {
        failures++;
        throw new Error('the database is down');
      }
      if (failures === 1) {
        failures++;
        return deliveries.map((): Disposition => nakAfter(0));
      }
      return recorder(seen)(deliveries);
    });
    await r.start();
    await waitFor(() => seen.length === 2);
    expect(failures).toBe(2);
    expect(seen).toEqual(['x', 'y']);
  });

  it('dead-letters what the handler terminates and reads on past it', async () => {
    const seen: string[] = [];
    await publish('good', 'poison', 'after');
    const r = runner(async (deliveries) => {
      seen.push(...deliveries.map(({ msg }) => msg.string()));
      return deliveries.map(({ msg }) => (msg.string() === 'poison' ? term('unreadable') : ack()));
    });
    await r.start();
    await waitFor(() => seen.length === 3);
    await waitFor(async () => (await messaging.jsm.streams.info(`${stream}_DLQ`)).state.messages === 1);
    const dead = await messaging.jsm.streams.getMessage(`${stream}_DLQ`, { seq: 1 });
    expect(dead?.string()).toBe('poison');
    expect(dead?.header.get('Trigrun-Dead-Letter-Reason')).toBe('unreadable');
  });

  it('lets one replica read at a time; when it stops, another takes over where it was', async () => {
    const seenA: string[] = [];
    const seenB: string[] = [];
    const a = runner(recorder(seenA));
    await a.start();
    await waitFor(() => a.active);
    const b = runner(recorder(seenB));
    await b.start();
    await publish('1', '2', '3');
    await waitFor(() => seenA.length === 3);
    await new Promise((r) => setTimeout(r, 300));
    expect(b.active).toBe(false);
    expect(seenB).toEqual([]);

    await a.stop(2_000);
    await publish('4', '5');
    // The lease is released on a clean stop: B takes it at its next try (a third of the lease).
    await waitFor(() => seenB.length === 2, 5_000);
    expect(seenB).toEqual(['4', '5']);
    expect(seenA).toEqual(['1', '2', '3']);
  });

  it('takes over from a replica that died holding the lease once the lease runs out', async () => {
    const name = `${ns}-reader`;
    await store.acquire(name, 'a-replica-that-died', 1_500);
    const seen: string[] = [];
    await publish('1');
    const r = runner(recorder(seen));
    await r.start();
    await new Promise((res) => setTimeout(res, 500));
    expect(seen).toEqual([]);
    await waitFor(() => seen.length === 1, 5_000);
  });

  it('reads a stream that was recreated (it ends before the recorded position) from its start', async () => {
    const seen: string[] = [];
    await publish('1', '2', '3');
    const first = runner(recorder(seen));
    await first.start();
    await waitFor(() => seen.length === 3);
    await first.stop(2_000);
    await messaging.jsm.streams.delete(stream);
    await declare();
    await publish('new');
    const second = runner(recorder(seen));
    await second.start();
    await waitFor(() => seen.length === 4);
    expect(seen[3]).toBe('new');
    await waitFor(async () => Number(await positionOf(`${ns}-reader`)) === 1);
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
