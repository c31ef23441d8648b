/**
 * Fair admission of keyed work (the step-runner keys by workspace): a pure policy, no I/O and no
 * clock of its own, so every rule below is a unit test.
 *
 *   offer ──► start now?  (a slot is free, the key is below its cap, and no older item of the key
 *     │                    is out: nothing else can be waiting that it would overtake)
 *     │ no
 *     ▼
 *   buffer of the key, in sequence order ──(a slot frees)──► round robin over the keys below their
 *     │ no room                                              cap whose oldest item may start ──► start
 *     ▼
 *   hand back (the key's newest item: the arriving one, or a buffered one newer than it)
 *
 * - At most `maxInFlight` items run at once, at most `maxInFlightPerKey` of one key.
 * - Items that cannot start wait in a bounded buffer per key, oldest first. When a slot frees, the
 *   keys that have work waiting take turns: one item each, in turn.
 * - The buffer is bounded per key and in total (count and bytes). A key's buffer keeps its oldest
 *   items. When the total is full, the key holding the most gives up its newest item to make room
 *   for a key holding fewer, so a key that floods cannot keep a quiet one out.
 * - A handed-back item is expected back: its caller redelivers it after `handBackDelayMs`, which
 *   grows with the number of items out (`handBacksPerSecond`), so a flood of any size costs a
 *   bounded number of round trips per second. Until it is back, or for twice its delay plus a
 *   second at most, no newer item of its key starts: a key's items never start out of their order
 *   because one of them had to wait outside (they wait in the buffer meanwhile, not outside, so
 *   returns that arrive out of order cost no extra round trip).
 * - Order gives way to work: when a key's buffer is full (or the whole buffer is), its oldest
 *   buffered item starts although an older one is still out. Kept strictly, the rule above bounds
 *   a flooded key to the rate its handed-back items come back (at most `handBacksPerSecond`, each
 *   after up to `maxHandBackDelayMs`): the bench found the engine idle for minutes with 1,024
 *   messages buffered behind one item due back in 30 s. Such starts are counted
 *   (`outOfOrderStarts`); with room in the buffer, order holds as before.
 */
export interface AdmissionLimits {
  readonly maxInFlight: number;
  readonly maxInFlightPerKey: number;
  readonly maxBufferedPerKey: number;
  readonly maxBuffered: number;
  readonly maxBufferedBytes: number;
  /**
   * Bounds of the delay after which a handed-back item is redelivered. No jitter: items handed
   * back together come back in the order they left.
   */
  readonly minHandBackDelayMs: number;
  readonly maxHandBackDelayMs: number;
  /** Redeliveries of handed-back items per second aimed at: the delay is the items out / this rate, within the bounds. */
  readonly handBacksPerSecond: number;
}

/** Beyond twice its delay, how long a handed-back item that has not come back still holds its key back (a busy event loop). */
const ORDER_SLACK_MS = 1_000;

export interface Admissible {
  readonly key: string;
  /** Position in the source, increasing in arrival order (the stream sequence). */
  readonly seq: number;
  readonly size: number;
}

export interface AdmissionStep<T> {
  /** Start these now: each holds a slot until finished() is called for its key. */
  readonly start: T[];
  /** Give these back to their source, to come again after `handBackDelayMs`. */
  readonly handBack: T[];
  readonly handBackDelayMs: number;
}

interface KeyState<T> {
  inFlight: number;
  readonly queue: T[];
  readonly out: HandedBack;
}

export class FairAdmission<T extends Admissible> {
  private readonly keys = new Map<string, KeyState<T>>();
  /** Keys with buffered items, in turn order: the key served last moves to the back. */
  private readonly ring = new Map<string, KeyState<T>>();
  private running = 0;
  private count = 0;
  private bytes = 0;
  /** Handed-back items expected back, over all keys. */
  private readonly out = { size: 0 };
  private reordered = 0;

  constructor(private readonly limits: AdmissionLimits) {
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
    }
    if (limits.maxInFlight < 1 || limits.maxInFlightPerKey < 1) throw new RangeError('maxInFlight and maxInFlightPerKey must be at least 1');
    if (limits.handBacksPerSecond <= 0 || limits.maxHandBackDelayMs < limits.minHandBackDelayMs) {
      throw new RangeError('handBacksPerSecond must be positive and maxHandBackDelayMs at least minHandBackDelayMs');
    }
  }

  get inFlight(): number {
    return this.running;
  }

  get buffered(): number {
    return this.count;
  }

  get bufferedBytes(): number {
    return this.bytes;
  }

  /** Items started ahead of an older item of their key that was out, because the buffer was full. */
  get outOfOrderStarts(): number {
    return this.reordered;
  }

  /** Handed-back items not back yet (nor forgotten). */
  get handedBackOut(): number {
    return this.out.size;
  }

  inFlightOf(key: string): number {
    return this.keys.get(key)?.inFlight ?? 0;
  }

  bufferedOf(key: string): number {
    return this.keys.get(key)?.queue.length ?? 0;
  }

  /** Every buffered item (to keep them alive at their source). */
  *waiting(): IterableIterator<T> {
    for (const state of this.ring.values()) yield* state.queue;
  }

  offer(item: T, now: number): AdmissionStep<T> {
    const state = this.stateOf(item.key);
    const handBack: [KeyState<T>, T][] = [];
    state.out.remove(item.seq);
    if (state.queue.length === 0 && this.running < this.limits.maxInFlight && this.startable(state, item.seq, now)) {
      // Nothing can be waiting that this item would overtake: pump() leaves no startable item buffered.
      this.take(state);
      return { start: [item], handBack: [], handBackDelayMs: this.delayMs() };
    }
    if (this.makeRoom(state, item, handBack)) {
      state.queue.splice(indexBySeq(state.queue, item.seq), 0, item);
      this.count++;
      this.bytes += item.size;
      if (!this.ring.has(item.key)) this.ring.set(item.key, state);
    } else {
      handBack.push([state, item]);
    }
    return this.settled(item.key, state, this.pump(now), handBack, now);
  }

  /** One item of `key` finished: its slot goes to whoever's turn it is. */
  finished(key: string, now: number): T[] {
    const state = this.keys.get(key);
    if (!state || state.inFlight === 0) throw new Error(`finished() for ${JSON.stringify(key)} without an item in flight`);
    state.inFlight--;
    this.running--;
    const started = this.pump(now);
    this.forgetIfIdle(key, state);
    return started;
  }

  /** Empties the buffer (shutdown): every buffered item, to be handed back. */
  drain(): T[] {
    const all = [...this.waiting()];
    for (const [key, state] of this.ring) {
      state.queue.length = 0;
      this.forgetIfIdle(key, state);
    }
    this.ring.clear();
    this.count = 0;
    this.bytes = 0;
    return all;
  }

  /**
   * Forgets handed-back items that never came back (another consumer took them) and starts what
   * they no longer hold back. Call it now and then: time alone can unblock a key.
   */
  sweep(now: number): T[] {
    for (const [key, state] of this.keys) {
      state.out.sweep(now);
      this.forgetIfIdle(key, state);
    }
    return this.pump(now);
  }

  private stateOf(key: string): KeyState<T> {
    let state = this.keys.get(key);
    if (!state) {
      state = { inFlight: 0, queue: [], out: new HandedBack(this.out) };
      this.keys.set(key, state);
    }
    return state;
  }

  private take(state: KeyState<T>): void {
    state.inFlight++;
    this.running++;
  }

  /** The redelivery delay of a hand-back now: every item out coming back at the aimed rate, within the bounds. */
  private delayMs(): number {
    const spread = Math.ceil((this.out.size * 1000) / this.limits.handBacksPerSecond);
    return Math.min(this.limits.maxHandBackDelayMs, Math.max(this.limits.minHandBackDelayMs, spread));
  }

  /** Records this step's hand-backs as out (they hold their keys back until back) and answers. */
  private settled(key: string, state: KeyState<T>, start: T[], handBack: [KeyState<T>, T][], now: number): AdmissionStep<T> {
    for (const [owner, item] of handBack) owner.out.add(item.seq, 0);
    const delay = this.delayMs();
    for (const [owner, item] of handBack) owner.out.add(item.seq, now + 2 * delay + ORDER_SLACK_MS);
    this.forgetIfIdle(key, state);
    return { start, handBack: handBack.map(([, item]) => item), handBackDelayMs: delay };
  }

  /** Whether an item of `state` with sequence `seq` may start: below the key's cap, and no older item of the key out. */
  private startable(state: KeyState<T>, seq: number, now: number): boolean {
    if (state.inFlight >= this.limits.maxInFlightPerKey) return false;
    const lowest = state.out.lowest(now);
    return lowest === undefined || seq < lowest;
  }

  /** Whether `state`'s buffer, or the whole buffer, is full. */
  private pressed(state: KeyState<T>): boolean {
    return state.queue.length >= this.limits.maxBufferedPerKey || this.count >= this.limits.maxBuffered;
  }

  /**
   * Room for `item` in its key's buffer and in the total. A key's buffer keeps its oldest items
   * (the one its key waits for always gets in): a full key gives up its newest for an older one.
   * A full total takes from the key holding the most while it holds more than `state` would.
   * False when there is no fair room to make: the item itself goes back.
   */
  private makeRoom(state: KeyState<T>, item: T, handBack: [KeyState<T>, T][]): boolean {
    const newer = () => state.queue.length > 0 && state.queue[state.queue.length - 1].seq > item.seq;
    if (state.queue.length >= this.limits.maxBufferedPerKey) {
      if (!newer()) return false;
      handBack.push([state, this.popNewest(state)]);
    }
    const full = () => this.count > 0 && (this.count >= this.limits.maxBuffered || this.bytes + item.size > this.limits.maxBufferedBytes);
    while (full()) {
      let largest: KeyState<T> | undefined;
      for (const candidate of this.ring.values()) if (!largest || candidate.queue.length > largest.queue.length) largest = candidate;
      if (largest && largest !== state && largest.queue.length > state.queue.length + 1) handBack.push([largest, this.popNewest(largest)]);
      else if (newer()) handBack.push([state, this.popNewest(state)]);
      else return false;
    }
    return true;
  }

  private popNewest(state: KeyState<T>): T {
    const item = state.queue.pop()!;
    this.count--;
    this.bytes -= item.size;
    if (state.queue.length === 0) this.ring.delete(item.key);
    return item;
  }

  /**
   * Starts buffered items while slots are free, one per key in turn, skipping keys at their cap
   * and keys whose oldest buffered item waits for an older one that is out.
   */
  private pump(now: number): T[] {
    const started: T[] = [];
    while (this.running < this.limits.maxInFlight) {
      let next: [string, KeyState<T>] | undefined;
      let reordering = false;
      for (const entry of this.ring) {
        const [, candidate] = entry;
        if (this.startable(candidate, candidate.queue[0].seq, now)) {
          next = entry;
          break;
        }
        // A full buffer does not wait for a handed-back item: order gives way to work.
        if (!next && candidate.inFlight < this.limits.maxInFlightPerKey && this.pressed(candidate)) {
          next = entry;
          reordering = true;
        }
      }
      if (!next) break;
      if (reordering) this.reordered++;
      const [key, state] = next;
      const item = state.queue.shift()!;
      this.count--;
      this.bytes -= item.size;
      this.take(state);
      started.push(item);
      this.ring.delete(key);
      if (state.queue.length > 0) this.ring.set(key, state);
    }
    return started;
  }

  private forgetIfIdle(key: string, state: KeyState<T>): void {
    if (state.inFlight === 0 && state.queue.length === 0 && state.out.size === 0) this.keys.delete(key);
  }
}

/** The sequences of a key's handed-back items, lowest first, each until its deadline; `total` counts them over all keys. */
class HandedBack {
  private readonly seqs: number[] = [];
  private readonly until = new Map<number, number>();

  constructor(private readonly total: { size: number }) {}

  get size(): number {
    return this.until.size;
  }

  add(seq: number, until: number): void {
    if (!this.until.has(seq)) {
      this.seqs.splice(this.indexOf(seq), 0, seq);
      this.total.size++;
    }
    this.until.set(seq, until);
  }

  remove(seq: number): void {
    if (!this.until.delete(seq)) return;
    this.seqs.splice(this.indexOf(seq), 1);
    this.total.size--;
  }

  /** The lowest sequence still expected back at `now`; expired ones are forgotten on the way. */
  lowest(now: number): number | undefined {
    while (this.seqs.length > 0 && this.until.get(this.seqs[0])! <= now) this.remove(this.seqs[0]);
    return this.seqs[0];
  }

  sweep(now: number): void {
    for (const [seq, until] of this.until) if (until <= now) this.remove(seq);
  }

  private indexOf(seq: number): number {
    return indexBySeq(this.seqs, seq, (s) => s);
  }
}

/** Where `seq` is or would go in a list sorted by sequence (binary search: a flooding key's lists run to thousands). */
function indexBySeq<E>(list: readonly E[], seq: number, seqOf: (e: E) => number = (e) => (e as { seq: number }).seq): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (seqOf(list[mid]) < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
