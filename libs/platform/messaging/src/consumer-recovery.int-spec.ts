import { randomUUID } from 'node:crypto';
import { closeMessaging, connectMessaging, type Messaging } from './connection';
import { ConsumerRunner, ack } from './consumer';
import { ensureConsumer, ensureStream } from './streams';

const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';

jest.setTimeout(60_000);

/**
 * A consumer whose subscription ends under it (the durable was deleted, as a broker that lost its
 * state does) declares its topology again and goes on consuming, instead of returning from its
 * loop and leaving the service up, ready, and deaf.
 */
describe('ConsumerRunner when its subscription ends (real NATS)', () => {
  const ns = `r${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const stream = `${ns.toUpperCase()}_RECOVER`;
  const subject = `${ns}.msg.one`;
  const durable = 'recover-spec';
  let messaging: Messaging;

  const declare = async () => {
    await ensureStream(messaging.jsm, { name: stream, subjects: [`${ns}.msg.*`], duplicateWindowMs: 60_000 }, 1);
    await ensureConsumer(messaging.jsm, { stream, durable, filterSubject: subject, ackWaitMs: 2_000, maxAckPending: 100, maxDeliver: -1 });
  };

  beforeAll(async () => {
    messaging = await connectMessaging(NATS_URL, 'consumer-recovery-spec');
    await declare();
  });

  afterAll(async () => {
    await messaging.jsm.streams.delete(stream).catch(() => undefined);
    await closeMessaging(messaging);
  });

  it('re-declares its consumer and handles what is published after the durable was deleted', async () => {
    const seen: string[] = [];
    const logger = { error: jest.fn(), warn: jest.fn() };
    const runner = new ConsumerRunner({
      js: messaging.js,
      stream,
      durable,
      concurrency: 4,
      ackWaitMs: 2_000,
      handler: async (msg) => {
        seen.push(msg.string());
        return ack();
      },
      logger,
      recover: declare,
      recoverDelayMs: { min: 50, max: 500 },
    });
    await runner.start();
    try {
      await messaging.js.publish(subject, 'before');
      await waitFor(() => seen.includes('before'));

      await messaging.jsm.consumers.delete(stream, durable);
      // Published while nobody consumes: the re-declared durable (deliver all) starts from the beginning of the stream.
      await messaging.js.publish(subject, 'after');
      await waitFor(() => seen.includes('after'), 20_000);
      expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('subscription ended'), expect.anything());
    } finally {
      await runner.stop(1_000);
    }
  });
});

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
