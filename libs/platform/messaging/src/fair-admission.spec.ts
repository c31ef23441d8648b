import fc from 'fast-check';
import { type AdmissionLimits, FairAdmission } from './fair-admission';

interface Item {
  readonly key: string;
  readonly seq: number;
  readonly size: number;
}

// A handed-back item is due back after 500 ms here, and holds its key back for 2 × 500 ms + 1 s.
const LIMITS: AdmissionLimits = {
  maxInFlight: 4,
  maxInFlightPerKey: 2,
  maxBufferedPerKey: 3,
  maxBuffered: 6,
  maxBufferedBytes: 1_000,
  minHandBackDelayMs: 500,
  maxHandBackDelayMs: 500,
  handBacksPerSecond: 1_000,
};
const T0 = 1_000_000;

/** A fixture that numbers items in arrival order, as a stream does. */
function admission(limits: Partial<AdmissionLimits> = {}) {
  const policy = new FairAdmission<Item>({ ...LIMITS, ...limits });
  let seq = 0;
  const item = (key: string, size = 10): Item => ({ key, seq: ++seq, size });
  const keys = (items: readonly Item[]) => items.map((i) => `${i.key}${i.seq}`);
  return { policy, item, keys };
}

describe('FairAdmission', () => {
  it('starts items at once while the engine and the key are below their caps', () => {
    const { policy, item, keys } = admission();
    expect(keys(policy.offer(item('a'), T0).start)).toEqual(['a1']);
    expect(keys(policy.offer(item('a'), T0).start)).toEqual(['a2']);
    expect(policy.inFlight).toBe(2);
    expect(policy.buffered).toBe(0);
  });

  it("buffers a key at its cap and still starts another key's item at once", () => {
    const { policy, item, keys } = admission();
    policy.offer(item('noisy'), T0);
    policy.offer(item('noisy'), T0);
    const third = policy.offer(item('noisy'), T0);
    expect(third).toMatchObject({ start: [], handBack: [] });
    expect(policy.bufferedOf('noisy')).toBe(1);
    expect(keys(policy.offer(item('quiet'), T0).start)).toEqual(['quiet4']);
    expect(policy.inFlightOf('noisy')).toBe(2);
    expect(policy.inFlightOf('quiet')).toBe(1);
  });

  it('gives freed slots to the waiting keys in turn, one item each, first in first out within a key', () => {
    const { policy, item, keys } = admission({ maxInFlight: 1, maxInFlightPerKey: 1 });
    policy.offer(item('x'), T0); // x1 runs
    for (const key of ['a', 'a', 'a', 'b', 'b', 'c']) expect(policy.offer(item(key), T0).start).toEqual([]);
    const order: string[] = [];
    let running = 'x';
    for (let i = 0; i < 6; i++) {
      const next = policy.finished(running, T0);
      expect(next).toHaveLength(1);
      order.push(...keys(next));
      running = next[0].key;
    }
    expect(order).toEqual(['a2', 'b5', 'c7', 'a3', 'b6', 'a4']);
    expect(policy.finished(running, T0)).toEqual([]);
    expect(policy.inFlight).toBe(0);
  });

  it('skips a key at its cap when it is its turn and serves the next', () => {
    const { policy, item, keys } = admission({ maxInFlight: 3, maxInFlightPerKey: 2 });
    policy.offer(item('a'), T0);
    policy.offer(item('a'), T0);
    policy.offer(item('b'), T0); // engine full: a1 a2 b3
    policy.offer(item('a'), T0); // a4 waits (a at cap anyway)
    policy.offer(item('b'), T0); // b5 waits
    // b3 ends: a is first in turn but at its cap, so b goes on.
    expect(keys(policy.finished('b', T0))).toEqual(['b5']);
    expect(keys(policy.finished('a', T0))).toEqual(['a4']);
  });

  it('hands back what exceeds the per-key buffer, and starts no newer item of that key until it is back', () => {
    const { policy, item, keys } = admission({ maxBufferedPerKey: 2 });
    for (let i = 0; i < 4; i++) policy.offer(item('a'), T0); // a1 a2 run, a3 a4 wait
    const overflow = item('a');
    expect(keys(policy.offer(overflow, T0).handBack)).toEqual(['a5']);
    expect(keys(policy.finished('a', T0))).toEqual(['a3']);
    // a6 finds room, but a5 is still out: a6 waits although a slot frees.
    expect(policy.offer(item('a'), T0 + 10)).toMatchObject({ start: [], handBack: [] });
    expect(keys(policy.finished('a', T0 + 20))).toEqual(['a4']);
    expect(policy.finished('a', T0 + 30)).toEqual([]);
    expect(keys([...policy.waiting()])).toEqual(['a6']);
    // Other keys are never held back by a's hand-backs.
    expect(keys(policy.offer(item('b'), T0 + 40).start)).toEqual(['b7']);
    // a5 comes back: it goes first, then a6.
    expect(keys(policy.offer(overflow, T0 + 500).start)).toEqual(['a5']);
    expect(keys(policy.finished('a', T0 + 510))).toEqual(['a6']);
  });

  it('never leaves a slot idle behind a full buffer: its oldest item starts although an older one is out', () => {
    // The bench's wedge in miniature: a flood fills the buffer while an older item is out for its
    // (long) delay; holding to order would idle the engine until it came back.
    const { policy, item, keys } = admission({ maxInFlight: 2, maxInFlightPerKey: 2, maxBufferedPerKey: 2, maxBuffered: 2, minHandBackDelayMs: 30_000, maxHandBackDelayMs: 30_000 });
    policy.offer(item('a'), T0); // a1 runs
    policy.offer(item('a'), T0); // a2 runs
    policy.offer(item('a'), T0); // a3 waits
    policy.offer(item('a'), T0); // a4 waits: the buffer is full
    const a5 = item('a');
    expect(keys(policy.offer(a5, T0).handBack)).toEqual(['a5']); // out for 30 s
    expect(keys(policy.finished('a', T0 + 1))).toEqual(['a3']); // [a4]
    expect(policy.offer(item('a'), T0 + 2)).toMatchObject({ start: [], handBack: [] }); // a6 waits behind out a5: [a4, a6], full
    expect(keys(policy.finished('a', T0 + 3))).toEqual(['a4']); // [a6]: room again
    // With room in the buffer, order holds: a6 waits for a5 although a slot is free.
    expect(policy.finished('a', T0 + 4)).toEqual([]);
    // a7 arrives: [a6, a7], the buffer is full and a slot is free, so a6 starts now, not when a5
    // is due back; a7 still waits for a5 (there is room again).
    expect(policy.outOfOrderStarts).toBe(0);
    expect(keys(policy.offer(item('a'), T0 + 5).start)).toEqual(['a6']);
    expect(policy.outOfOrderStarts).toBe(1);
    expect(keys([...policy.waiting()])).toEqual(['a7']);
    expect(policy.finished('a', T0 + 6)).toEqual([]); // a7 waits for a5: room in the buffer
    expect(keys(policy.offer(a5, T0 + 30_000).start)).toEqual(['a5']);
  });

  it('takes returns that arrive out of order into the buffer, in sequence order, without another round trip', () => {
    const { policy, item, keys } = admission({ maxInFlight: 1, maxInFlightPerKey: 1, maxBufferedPerKey: 3 });
    policy.offer(item('a'), T0); // a1 runs
    for (let i = 0; i < 3; i++) policy.offer(item('a'), T0); // a2..a4 wait
    const out = [item('a'), item('a'), item('a')]; // a5..a7
    for (const o of out) expect(keys(policy.offer(o, T0).handBack)).toEqual([o.key + o.seq]);
    for (let i = 0; i < 3; i++) policy.finished('a', T0 + 1 + i); // a2..a4 ran and ended; a1 too
    expect(policy.inFlight).toBe(1);
    expect(policy.offer(out[2], T0 + 500)).toMatchObject({ start: [], handBack: [] }); // a7 first: waits
    expect(policy.offer(out[1], T0 + 501)).toMatchObject({ start: [], handBack: [] }); // a6: waits
    expect(policy.handedBackOut).toBe(1);
    policy.finished('a', T0 + 502); // a slot, but a5 is still out
    expect(policy.inFlight).toBe(0);
    expect(keys(policy.offer(out[0], T0 + 503).start)).toEqual(['a5']);
    expect(keys(policy.finished('a', T0 + 504))).toEqual(['a6']);
    expect(keys(policy.finished('a', T0 + 505))).toEqual(['a7']);
  });

  it('keeps the oldest items of a key when its buffer is full: an older one coming back takes the place of the newest', () => {
    const { policy, item, keys } = admission({ maxInFlight: 1, maxInFlightPerKey: 1, maxBufferedPerKey: 2 });
    policy.offer(item('a'), T0); // a1 runs
    const a2 = item('a');
    expect(keys(policy.offer(a2, T0).start)).toEqual([]);
    policy.offer(item('a'), T0); // a3 waits
    const a4 = item('a');
    expect(keys(policy.offer(a4, T0).handBack)).toEqual(['a4']);
    policy.finished('a', T0); // a2 starts; [a3]
    policy.offer(item('a'), T0); // a5 waits behind out a4: [a3, a5]
    const again = policy.offer({ key: 'a', seq: 4, size: 10 }, T0 + 10); // a4 back: a5 gives way
    expect(keys(again.handBack)).toEqual(['a5']);
    expect(keys([...policy.waiting()])).toEqual(['a3', 'a4']);
  });

  it('stops holding a key back once a handed-back item has not returned within twice its delay and a second', () => {
    const { policy, item, keys } = admission({ maxBufferedPerKey: 2 });
    for (let i = 0; i < 4; i++) policy.offer(item('a'), T0); // a1 a2 run, a3 a4 wait
    expect(keys(policy.offer(item('a'), T0).handBack)).toEqual(['a5']); // taken elsewhere, never seen again
    policy.finished('a', T0); // a3
    policy.finished('a', T0); // a4
    policy.offer(item('a'), T0); // a6 waits for a5
    policy.finished('a', T0 + 100);
    policy.finished('a', T0 + 100);
    expect(policy.sweep(T0 + 1_999)).toEqual([]);
    // a5's delay was 500 ms: it holds a back until T0 + 2 × 500 + 1000.
    expect(keys(policy.sweep(T0 + 2_000))).toEqual(['a6']);
    expect(policy.handedBackOut).toBe(0);
  });

  it('spreads the returns of a flood of any size: the delay grows with the items out, within its bounds', () => {
    const flooded = () => {
      const f = admission({ maxInFlight: 1, maxInFlightPerKey: 1, maxBufferedPerKey: 0, minHandBackDelayMs: 1_000, maxHandBackDelayMs: 30_000, handBacksPerSecond: 10 });
      f.policy.offer(f.item('a'), T0);
      const delays = Array.from({ length: 400 }, () => f.policy.offer(f.item('a'), T0).handBackDelayMs);
      f.policy.finished('a', T0);
      return { ...f, delays };
    };
    const { policy, item, delays } = flooded();
    expect(policy.handedBackOut).toBe(400);
    expect(delays[0]).toBe(1_000); // 1 out at 10/s: the minimum
    expect(delays[49]).toBe(5_000); // 50 out: 5 s
    expect(delays[399]).toBe(30_000); // 400 out would take 40 s: the maximum
    // Each holds its key back for twice its own delay and a second: the last ones until T0 + 61 s.
    expect(policy.offer(item('a'), T0 + 60_999).start).toEqual([]);
    const later = flooded();
    expect(later.policy.offer(later.item('a'), T0 + 61_001).start).toHaveLength(1);
  });

  it('when the total buffer is full, takes room from the key holding the most so a quiet key gets in', () => {
    const { policy, item, keys } = admission({ maxInFlight: 2, maxInFlightPerKey: 1, maxBufferedPerKey: 10, maxBuffered: 4 });
    policy.offer(item('noisy'), T0);
    policy.offer(item('other'), T0); // both slots taken
    for (let i = 0; i < 4; i++) policy.offer(item('noisy'), T0); // noisy3..6 fill the buffer
    expect(policy.buffered).toBe(4);
    const quiet = policy.offer(item('quiet'), T0);
    expect(keys(quiet.handBack)).toEqual(['noisy6']);
    expect(policy.bufferedOf('quiet')).toBe(1);
    expect(policy.bufferedOf('noisy')).toBe(3);
    // More of noisy now: no room, and noisy holds the most itself: handed back.
    expect(keys(policy.offer(item('noisy'), T0).handBack)).toEqual(['noisy8']);
    // Keys with about as many waiting are not robbed of each other's place: equal shares are fair.
    const b = admission({ maxInFlight: 1, maxInFlightPerKey: 1, maxBuffered: 2 });
    b.policy.offer(b.item('x'), T0);
    b.policy.offer(b.item('a'), T0);
    b.policy.offer(b.item('b'), T0);
    expect(b.keys(b.policy.offer(b.item('c'), T0).handBack)).toEqual(['c4']);
  });

  it('bounds the buffer in bytes too, and never refuses an item too big to buffer when a slot is free', () => {
    const { policy, item, keys } = admission({ maxInFlight: 1, maxBufferedBytes: 100 });
    expect(keys(policy.offer(item('a', 5_000), T0).start)).toEqual(['a1']);
    expect(policy.offer(item('b', 5_000), T0).handBack).toEqual([]); // an empty buffer takes one item, whatever its size
    expect(keys(policy.offer(item('c', 10), T0).handBack)).toEqual(['c3']);
    expect(policy.bufferedBytes).toBe(5_000);
    expect(keys(policy.finished('a', T0))).toEqual(['b2']);
    expect(policy.bufferedBytes).toBe(0);
  });

  it('drains every buffered item for shutdown, leaving what is in flight to finish', () => {
    const { policy, item, keys } = admission();
    for (const key of ['a', 'a', 'a', 'b', 'b', 'b', 'c']) policy.offer(item(key), T0);
    expect(policy.inFlight).toBe(4);
    expect(keys(policy.drain())).toEqual(['a3', 'b6', 'c7']);
    expect(policy.buffered).toBe(0);
    expect(policy.finished('a', T0)).toEqual([]);
    expect(policy.inFlight).toBe(3);
  });

  it('refuses a finished() without an item in flight, and limits that make no sense', () => {
    const { policy } = admission();
    expect(() => policy.finished('nobody', T0)).toThrow(/without an item in flight/);
    expect(() => new FairAdmission({ ...LIMITS, maxInFlightPerKey: 0 })).toThrow(RangeError);
    expect(() => new FairAdmission({ ...LIMITS, maxBuffered: -1 })).toThrow(RangeError);
  });

  it('holds its invariants under any sequence of offers, finishes and returns', () => {
    type Op = { type: 'offer'; key: number; size: number } | { type: 'finish'; pick: number } | { type: 'return'; pick: number } | { type: 'tick'; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ type: fc.constant('offer' as const), key: fc.integer({ min: 0, max: 2 }), size: fc.integer({ min: 1, max: 400 }) }),
      fc.record({ type: fc.constant('finish' as const), pick: fc.nat() }),
      fc.record({ type: fc.constant('return' as const), pick: fc.nat() }),
      fc.record({ type: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
    );
    const limits = fc.record({
      maxInFlight: fc.integer({ min: 1, max: 6 }),
      maxInFlightPerKey: fc.integer({ min: 1, max: 4 }),
      maxBufferedPerKey: fc.integer({ min: 0, max: 4 }),
      maxBuffered: fc.integer({ min: 0, max: 8 }),
      maxBufferedBytes: fc.integer({ min: 0, max: 1_500 }),
      // Either delays that some ticks outlast, or ones no tick reaches (then order is checked).
      delay: fc.oneof(fc.record({ min: fc.integer({ min: 0, max: 2_000 }), extra: fc.integer({ min: 0, max: 3_000 }), rate: fc.integer({ min: 1, max: 1_000 }) }), fc.constant({ min: 1e11, extra: 0, rate: 1 })),
    });
    fc.assert(
      fc.property(limits, fc.array(op, { minLength: 20, maxLength: 300 }), ({ delay, ...bounds }, ops) => {
        const l: AdmissionLimits = { ...bounds, minHandBackDelayMs: delay.min, maxHandBackDelayMs: delay.min + delay.extra, handBacksPerSecond: delay.rate };
        const policy = new FairAdmission<Item>(l);
        let now = T0;
        let seq = 0;
        const running: Item[] = [];
        const outside: Item[] = [];
        const startedSeqs = new Map<string, number[]>();
        const apply = (step: { start: Item[]; handBack: Item[] }) => {
          for (const i of step.start) {
            running.push(i);
            startedSeqs.set(i.key, [...(startedSeqs.get(i.key) ?? []), i.seq]);
          }
          outside.push(...step.handBack);
        };
        for (const o of ops) {
          if (o.type === 'offer') apply(policy.offer({ key: `k${o.key}`, seq: ++seq, size: o.size }, now));
          else if (o.type === 'finish' && running.length > 0) {
            const [done] = running.splice(o.pick % running.length, 1);
            apply({ start: policy.finished(done.key, T0), handBack: [] });
          } else if (o.type === 'return' && outside.length > 0) {
            // Any handed-back item may come back next: redeliveries are not reliably in order.
            apply(policy.offer(outside.splice(o.pick % outside.length, 1)[0], now));
          } else if (o.type === 'tick') {
            now += o.ms;
            apply({ start: policy.sweep(now), handBack: [] });
          }
          // Caps hold.
          expect(policy.inFlight).toBe(running.length);
          expect(running.length).toBeLessThanOrEqual(l.maxInFlight);
          const perKey = new Map<string, number>();
          for (const r of running) perKey.set(r.key, (perKey.get(r.key) ?? 0) + 1);
          for (const n of perKey.values()) expect(n).toBeLessThanOrEqual(l.maxInFlightPerKey);
          // Buffer bounds hold (one item of any size may wait in an otherwise empty buffer).
          const waiting = [...policy.waiting()];
          expect(waiting).toHaveLength(policy.buffered);
          if (waiting.length > 1) expect(waiting.length).toBeLessThanOrEqual(l.maxBuffered);
          if (waiting.length > 1) expect(policy.bufferedBytes).toBeLessThanOrEqual(l.maxBufferedBytes);
          for (const k of new Set(waiting.map((w) => w.key))) expect(policy.bufferedOf(k)).toBeLessThanOrEqual(l.maxBufferedPerKey);
          // Work conserving: nothing waits that could run, unless an older item of its key is out.
          if (running.length < l.maxInFlight) {
            for (const w of waiting) {
              const blocked = outside.some((x) => x.key === w.key && x.seq < w.seq);
              if (!blocked) expect(perKey.get(w.key) ?? 0).toBe(l.maxInFlightPerKey);
            }
          }
          // Nothing lost, nothing duplicated: every offered item is running, waiting, outside or done.
          const live = [...running, ...waiting, ...outside].map((i) => i.seq);
          expect(new Set(live).size).toBe(live.length);
          // What it counts as out is out (the count feeds the hand-back delay: it must not leak).
          expect(policy.handedBackOut).toBeGreaterThanOrEqual(0);
          expect(policy.handedBackOut).toBeLessThanOrEqual(outside.length);
        }
        // Within a key, items start in arrival order as long as each handed-back item came back in
        // time — and no full buffer made order give way to work (counted by outOfOrderStarts).
        if (delay.min === 1e11 && policy.outOfOrderStarts === 0) {
          for (const seqs of startedSeqs.values()) expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
        }
      }),
      { numRuns: 300 },
    );
  });
});
