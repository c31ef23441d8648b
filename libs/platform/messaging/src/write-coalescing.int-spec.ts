import { connect } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import { closeMessaging, connectMessaging } from './connection';
import { coalesceWrites } from './write-coalescing';

const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';

/** Counts the socket writes of a connection (its transport's `send`). */
function countWrites(nc: unknown): { count: () => number } {
  const transport = (nc as { protocol: { transport: { send(frame: Uint8Array): void } } }).protocol.transport;
  const send = transport.send.bind(transport);
  let writes = 0;
  transport.send = (frame: Uint8Array) => {
    writes++;
    send(frame);
  };
  return { count: () => writes };
}

describe('coalesced NATS writes', () => {
  it('recognizes the installed nats.js internals (fails on an upgrade that changes them)', async () => {
    const nc = await connect({ servers: NATS_URL });
    try {
      expect(coalesceWrites(nc)).toBe(true);
    } finally {
      await nc.close();
    }
  });

  it('sends everything published in one event-loop turn in one write, in order, nothing lost', async () => {
    const messaging = await connectMessaging(NATS_URL, 'write-coalescing-spec');
    const subject = `coalesce.${randomBytes(4).toString('hex')}`;
    try {
      const received: string[] = [];
      const sub = messaging.nc.subscribe(subject, { max: 500 });
      const done = (async () => {
        for await (const m of sub) received.push(m.string());
      })();
      await messaging.nc.flush();
      const writes = countWrites(messaging.nc);
      // 500 publishes from 500 separate callbacks of one loop phase, as handlers resumed by I/O
      // make them: nats.js alone flushes after each callback's microtasks, i.e. 500 writes.
      await Promise.all(
        Array.from({ length: 500 }, (_, i) => new Promise<void>((resolve) => setImmediate(() => resolve(messaging.nc.publish(subject, String(i)))))),
      );
      await messaging.nc.flush();
      await done;
      expect(received).toEqual(Array.from({ length: 500 }, (_, i) => String(i)));
      // Without coalescing this is ~500 writes (one per microtask); with it, the publishes plus the flush PING.
      expect(writes.count()).toBeLessThanOrEqual(3);
    } finally {
      await closeMessaging(messaging);
    }
  });
});
