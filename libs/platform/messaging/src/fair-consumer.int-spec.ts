import { randomUUID } from 'node:crypto';
import { closeMessaging, connectMessaging, type Messaging } from './connection';
import { ConsumerRunner, type Disposition, type FairnessOptions, ack, nakAfter } from './consumer';
import { JetStreamEventStore, WORKSPACE_HEADER, workspaceHeaderOf } from './event-store';
import { ensureConsumer, ensureStream } from './streams';

const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';
const ACK_WAIT_MS = 1_000;

jest.setTimeout(60_000);

/**
 * The fair consumer against the real NATS: a noisy key that holds its cap with handlers that hang
 * does not keep a quiet key's message waiting, nothing is started twice (buffered messages are
 * kept alive past ack_wait), a key's messages start in stream order although some were handed
 * back, and stop() hands back everything it holds.
 */
describe('ConsumerRunner with fairness (real NATS)', () => {
  const ns = `f${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const stream = `${ns.toUpperCase()}_FAIR`;
  let messaging: Messaging;
  let store: JetStreamEventStore;
  let durableCount = 0;
  const logger = { error: jest.fn(), warn: jest.fn() };

  beforeAll(async () => {
    messaging = await connectMessaging(NATS_URL, 'fair-consumer-spec');
    await ensureStream(messaging.jsm, { name: stream, subjects: [`${ns}.msg.*`], duplicateWindowMs: 60_000 }, 1);
    store = new JetStreamEventStore(messaging.js, messaging.jsm, stream);
  });

  afterAll(async () => {
    await messaging.jsm.streams.delete(stream).catch(() => undefined);
    await closeMessaging(messaging);
  });

  const fairness: FairnessOptions = {
    keyOf: (msg) => workspaceHeaderOf(msg.headers) ?? '',
    maxInFlightPerKey: 2,
    maxBufferedPerKey: 3,
    maxBuffered: 8,
    maxBufferedBytes: 1 << 20,
    minHandBackDelayMs: 300,
    maxHandBackDelayMs: 300,
    handBacksPerSecond: 1000,
  };

  /** A fresh durable consumer on its own subject, and `messages` appended to it ({workspace, body} each). */
  async function setup(messages: { workspace: string; body: string }[]) {
    const subject = `${ns}.msg.${++durableCount}`;
    const durable = `fair-${durableCount}`;
    await ensureConsumer(messaging.jsm, { stream, durable, filterSubject: subject, ackWaitMs: ACK_WAIT_MS, maxAckPending: 1000, maxDeliver: -1 });
    let last = 0;
    for (const [i, m] of messages.entries()) {
      last = await store.append(subject, new TextEncoder().encode(m.body), { msgId: `${durable}:${i}`, expectedLastSeq: last, workspaceId: m.workspace });
    }
    return { durable };
  }

  const runner = (durable: string, handler: (body: string, key: string, seq: number) => Promise<Disposition>, over: Partial<FairnessOptions> = {}) =>
    new ConsumerRunner({
      js: messaging.js,
      stream,
      durable,
      concurrency: 4,
      ackWaitMs: ACK_WAIT_MS,
      fairness: { ...fairness, ...over },
      logger,
      handler: (msg) => handler(msg.string(), msg.headers?.get(WORKSPACE_HEADER) ?? '', msg.seq),
    });

  const waitFor = async (check: () => boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it("handles a quiet key's message while a noisy key holds its cap, and starts nothing twice although messages wait past ack_wait", async () => {
    const noisy = Array.from({ length: 30 }, (_, i) => ({ workspace: 'ws_noisy', body: `noisy-${i}` }));
    const { durable } = await setup([...noisy, { workspace: 'ws_quiet', body: 'quiet' }]);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const started: { body: string; seq: number }[] = [];
    let noisyRunning = 0;
    let noisyPeak = 0;
    let noisyRunningWhenQuiet = -1;
    const acked = new Set<string>();
    const consumer = runner(durable, async (body, key, seq) => {
      started.push({ body, seq });
      if (key === 'ws_quiet') {
        noisyRunningWhenQuiet = noisyRunning;
      } else {
        noisyRunning++;
        noisyPeak = Math.max(noisyPeak, noisyRunning);
        await released;
        noisyRunning--;
      }
      acked.add(body);
      return ack();
    });
    await consumer.start();
    try {
      await waitFor(() => acked.has('quiet'), 5_000);
      expect(noisyRunningWhenQuiet).toBe(2);
      expect(consumer.admissionStats).toMatchObject({ inFlight: 2 });
      // Behind the cap: 3 buffered, the rest handed back to the server again and again.
      expect(consumer.admissionStats!.buffered).toBe(3);
      // Hold the noisy handlers beyond ack_wait: the buffered messages must be kept alive.
      await new Promise((r) => setTimeout(r, 2.5 * ACK_WAIT_MS));
      expect(consumer.admissionStats!.handedBack).toBeGreaterThan(0);
      release();
      await waitFor(() => acked.size === 31);
      expect(noisyPeak).toBe(2);
      // Each message started exactly once, and the noisy key's in its stream order.
      expect(new Set(started.map((s) => s.seq)).size).toBe(started.length);
      const noisySeqs = started.filter((s) => s.body.startsWith('noisy')).map((s) => s.seq);
      expect(noisySeqs).toEqual([...noisySeqs].sort((a, b) => a - b));
      expect(noisySeqs).toHaveLength(30);
    } finally {
      release();
      await consumer.stop(1_000);
    }
    const info = await messaging.jsm.consumers.info(stream, durable);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
  });

  it('keeps waiting dispositions: a message nak-ed with a delay by its handler comes back after it', async () => {
    const { durable } = await setup([{ workspace: 'ws_a', body: 'timer' }]);
    const seen: number[] = [];
    const consumer = runner(durable, async () => {
      seen.push(Date.now());
      return seen.length === 1 ? nakAfter(700) : ack();
    });
    await consumer.start();
    try {
      await waitFor(() => seen.length === 2);
      expect(seen[1] - seen[0]).toBeGreaterThanOrEqual(650);
    } finally {
      await consumer.stop(1_000);
    }
  });

  it('does not start a message a second time when the server delivers it again while its handler still runs', async () => {
    const { durable } = await setup([{ workspace: 'ws_a', body: 'once' }]);
    let calls = 0;
    let done = false;
    const consumer = runner(durable, async () => {
      calls++;
      // A stalled event loop (no progress acks) for longer than ack_wait: the server redelivers.
      const until = Date.now() + ACK_WAIT_MS + 600;
      while (Date.now() < until) {
        // busy on purpose
      }
      await new Promise((r) => setTimeout(r, 800));
      done = true;
      return ack();
    });
    await consumer.start();
    try {
      await waitFor(() => done);
      expect(calls).toBe(1);
      expect(consumer.admissionStats!.duplicates).toBeGreaterThanOrEqual(1);
    } finally {
      await consumer.stop(1_000);
    }
  });

  it('hands back every buffered message on stop, at once, so another consumer takes them', async () => {
    const { durable } = await setup(Array.from({ length: 6 }, (_, i) => ({ workspace: 'ws_a', body: `m-${i}` })));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const first: string[] = [];
    const consumer = runner(durable, async (body) => {
      first.push(body);
      await released;
      return ack();
    });
    await consumer.start();
    await waitFor(() => first.length === 2 && consumer.admissionStats!.buffered === 3);
    const stopping = consumer.stop(5_000);
    await new Promise((r) => setTimeout(r, 100));
    // The buffered ones went back at stop (not after ack_wait): a second consumer gets them now,
    // while the first still finishes its two in flight.
    const second: string[] = [];
    const next = runner(durable, async (body) => {
      second.push(body);
      return ack();
    });
    await next.start();
    try {
      await waitFor(() => second.length >= 4, ACK_WAIT_MS - 200);
      expect(second).toEqual(expect.arrayContaining(['m-2', 'm-3', 'm-4', 'm-5']));
      release();
      await stopping;
      await waitFor(() => second.length + first.length >= 6);
    } finally {
      release();
      await next.stop(1_000);
    }
    expect([...first, ...second].sort()).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4', 'm-5']);
  });
});
