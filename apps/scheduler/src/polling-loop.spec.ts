import { PollingLoop } from './polling-loop';

/** The loop's timing and shutdown, on jest's fake clock: no real waiting. */
describe('PollingLoop', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-06-01T12:00:00.000Z') }));
  afterEach(() => jest.useRealTimers());

  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };

  it('ticks once per interval, start to start', async () => {
    let ticks = 0;
    const loop = new PollingLoop(100, async () => void ticks++, () => undefined);
    loop.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(ticks).toBe(1);
    await jest.advanceTimersByTimeAsync(99);
    expect(ticks).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(ticks).toBe(2);
    await jest.advanceTimersByTimeAsync(300);
    expect(ticks).toBe(5);
    await loop.stop();
  });

  it('goes on after a failed tick, reporting it', async () => {
    const errors: unknown[] = [];
    let ticks = 0;
    const loop = new PollingLoop(
      100,
      async () => {
        if (++ticks === 1) throw new Error('database unavailable');
      },
      (e) => errors.push(e),
    );
    loop.start();
    await jest.advanceTimersByTimeAsync(100);
    expect(ticks).toBe(2);
    expect(errors).toEqual([new Error('database unavailable')]);
    await loop.stop();
  });

  it('stop waits for the tick in progress, then ticks no more', async () => {
    const inTick = deferred();
    let ticks = 0;
    const loop = new PollingLoop(
      100,
      async () => {
        ticks++;
        await inTick.promise;
      },
      () => undefined,
    );
    loop.start();
    await jest.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    inTick.resolve();
    await stopping;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(ticks).toBe(1);
  });

  it('stop does not sit out the wait between ticks', async () => {
    const loop = new PollingLoop(60_000, async () => undefined, () => undefined);
    loop.start();
    await jest.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(true);
    await stopping;
  });
});
