import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { discardBody } from './error.filter';

/** A request body still arriving: a stream written to by the test, standing in for IncomingMessage. */
const arriving = () => new PassThrough() as PassThrough & IncomingMessage;
const settled = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('discardBody: a refused body is read to its end before the 413 goes out', () => {
  it('waits for the rest of the body, throwing it away', async () => {
    const body = arriving();
    const discarded = discardBody(body, 1024, 10_000);
    body.write(Buffer.alloc(300));
    expect(await settled(discarded)).toBe(false);
    body.end(Buffer.alloc(300));
    await expect(discarded).resolves.toBeUndefined();
  });

  it('stops waiting once more than the cap has arrived, or when the time is up', async () => {
    const endless = arriving();
    const capped = discardBody(endless, 1024, 10_000);
    endless.write(Buffer.alloc(1000));
    expect(await settled(capped)).toBe(false);
    endless.write(Buffer.alloc(100));
    await expect(capped).resolves.toBeUndefined();

    const slow = arriving();
    jest.useFakeTimers();
    try {
      const timed = discardBody(slow, 1024, 5_000);
      jest.advanceTimersByTime(5_000);
      await expect(timed).resolves.toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });

  it('does not wait for a body that already ended or a connection that is gone', async () => {
    await expect(discardBody({ complete: true } as IncomingMessage)).resolves.toBeUndefined();
    const gone = arriving();
    gone.destroy();
    await expect(discardBody(gone)).resolves.toBeUndefined();
  });
});
