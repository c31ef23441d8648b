import { RequestError, TimeoutError } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { closeMessaging, connectMessaging, type Messaging } from './connection';
import { skipReplyDispatchStacks } from './reply-dispatch';

const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';

type ErrorClass = new (...args: never[]) => Error;

/**
 * Counts the RequestError/TimeoutError instances nats.js builds *with a captured stack* while `fn`
 * runs. nats-core's own modules read these classes off `lib/errors.js`' exports at each use, so
 * swapping the exports for counting subclasses sees every construction (and `instanceof` stays
 * consistent while swapped).
 */
async function countStackedRequestErrors(fn: () => Promise<void>): Promise<number> {
  const errorsModule = jest.requireActual<Record<string, unknown> & { errors: Record<string, unknown> }>(
    join(dirname(require.resolve('@nats-io/nats-core')), 'errors.js'),
  );
  let stacked = 0;
  const counting = (Base: ErrorClass) =>
    class extends Base {
      constructor(...args: never[]) {
        super(...args);
        if (this.stack?.includes('\n    at ')) stacked++;
      }
    };
  const original = { RequestError: errorsModule.RequestError as ErrorClass, TimeoutError: errorsModule.TimeoutError as ErrorClass };
  const swap = (classes: typeof original) => {
    for (const [name, cls] of Object.entries(classes)) {
      errorsModule[name] = cls;
      errorsModule.errors[name] = cls;
    }
  };
  swap({ RequestError: counting(original.RequestError), TimeoutError: counting(original.TimeoutError) });
  try {
    await fn();
  } finally {
    swap(original);
  }
  return stacked;
}

describe('no stack traces on the request success path', () => {
  const ns = `rd${randomBytes(4).toString('hex')}`;
  const stream = `${ns.toUpperCase()}_RD`;
  let messaging: Messaging;
  let plain: NatsConnection;

  beforeAll(async () => {
    messaging = await connectMessaging(NATS_URL, 'reply-dispatch-spec');
    await messaging.jsm.streams.add({ name: stream, subjects: [`${ns}.>`], storage: StorageType.Memory });
    plain = await connect({ servers: NATS_URL });
  });

  afterAll(async () => {
    await messaging.jsm.streams.delete(stream).catch(() => undefined);
    await plain?.close();
    await closeMessaging(messaging);
  });

  it('recognizes the installed nats.js internals (fails on an upgrade that changes them)', async () => {
    const nc = await connect({ servers: NATS_URL });
    try {
      expect(skipReplyDispatchStacks(nc)).toBe(true);
      // The patched dispatcher still settles requests.
      const jsm = await jetstreamManager(nc);
      expect((await jsm.getAccountInfo()).streams).toBeGreaterThanOrEqual(1);
    } finally {
      await nc.close();
    }
  });

  it('captures no stack for a successful JetStream publish on a messaging connection', async () => {
    const publishAll = (js: ReturnType<typeof jetstream>, tag: string) => async () => {
      for (let i = 0; i < 20; i++) {
        await js.publish(`${ns}.${tag}.${i}`, 'x', { msgID: `${tag}-${i}`, expect: { lastSubjectSequence: 0, streamName: stream } });
      }
    };
    // Control: a connection with nats.js' defaults pays for several stacks per publish (this is
    // what the probe must see, or the assertion below would prove nothing).
    expect(await countStackedRequestErrors(publishAll(jetstream(plain), 'plain'))).toBeGreaterThanOrEqual(20);
    expect(await countStackedRequestErrors(publishAll(messaging.js, 'messaging'))).toBe(0);
  });

  it('still rejects a failed request with a meaningful error', async () => {
    const nobody = `${ns}-nobody`; // outside the stream's subjects
    const noResponders = await messaging.nc.request(nobody, 'x', { timeout: 2_000 }).catch((e: unknown) => e);
    expect(noResponders).toBeInstanceOf(RequestError);
    expect((noResponders as RequestError).isNoResponders()).toBe(true);
    expect((noResponders as Error).message).toBe(`no responders: '${nobody}'`);

    const silent = `${ns}-silent`;
    const sub = messaging.nc.subscribe(silent, { callback: () => undefined });
    try {
      await messaging.nc.flush();
      const timedOut = await messaging.nc.request(silent, 'x', { timeout: 50 }).catch((e: unknown) => e);
      expect(timedOut).toBeInstanceOf(TimeoutError);
      expect((timedOut as Error).message).toBe('timeout');
    } finally {
      sub.unsubscribe();
    }
    // The limit is restored after each dispatch: errors made by our own code keep their stacks.
    expect(Error.stackTraceLimit).toBeGreaterThan(0);
    expect(new Error('ours').stack).toContain('\n    at ');
  });
});
