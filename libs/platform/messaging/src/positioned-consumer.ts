import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { type ConsumerMessages, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { BatchHandler } from './consumer';
import { recordDeadLetter } from './dead-letters';

/**
 * Where a positioned consumer has got to, and who reads on: one row per consumer name. The
 * PostgreSQL one is @trigrun/database's PgPositionStore (table consumer_positions).
 *
 * The lease makes one holder read at a time; nothing depends on it for correctness (handlers are
 * idempotent), it only keeps two replicas from doing the same work twice.
 */
export interface PositionStore {
  /** Takes the lease (free, expired, or already `holder`'s) for `leaseMs`: the position read up to, or null when another holds it. */
  acquire(name: string, holder: string, leaseMs: number): Promise<number | null>;
  /** Records `position` (never moving it back) and renews the lease: false when `holder` lost it. */
  advance(name: string, holder: string, position: number, leaseMs: number): Promise<boolean>;
  /** Sets the position back to `position` (a stream that was recreated): false when `holder` lost the lease. */
  rewind(name: string, holder: string, position: number, leaseMs: number): Promise<boolean>;
  /** Gives the lease up, so another replica takes over at once. */
  release(name: string, holder: string): Promise<void>;
}

export interface PositionedConsumerOptions {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  /** The consumer's name: its row in the position store and its dead letters' id. */
  readonly name: string;
  readonly store: PositionStore;
  /** Batches of up to maxBatch messages, in stream order; `term` dispositions are dead-lettered, `nak` or a throw reads the batch again later. */
  readonly handler: BatchHandler;
  readonly maxBatch: number;
  /** How long a batch waits for more messages. Longer batches, fewer writes: for consumers no one waits on. */
  readonly maxWaitMs: number;
  readonly leaseMs?: number;
  readonly deadLetterSubject?: string;
  /** Backoff after a failure (the handler's, the broker's, the store's), from min doubling to max. */
  readonly retryDelayMs?: { readonly min: number; readonly max: number };
  readonly logger: {
    error(message: string, meta?: Record<string, unknown>): void;
    warn(message: string, meta?: Record<string, unknown>): void;
    log(message: string, meta?: Record<string, unknown>): void;
  };
}

const DEFAULT_LEASE_MS = 15_000;

class LeaseLost extends Error {}

/**
 * A consumer that keeps its own position instead of acknowledging messages: an ordered
 * (ephemeral, unacknowledged) JetStream consumer started after the position recorded in a
 * PositionStore, which advances after each batch is handled. For consumers that read every event
 * of a busy stream and act on few of them (the jobs reaction): an explicit ack per message cost
 * the broker and the client about three times what delivering it did (measured in the note of
 * issue 11), and a durable with ack-all is unsafe with two replicas (one's ack covers the other's
 * unfinished messages).
 *
 * Guarantees: at least once, in stream order, one batch at a time. A batch that fails is read
 * again from the recorded position after a backoff, so handlers must be idempotent. A stream
 * that holds fewer messages than the position (recreated) is read again from its start. One
 * replica reads at a time (the lease); the others try to take over every third of the lease, and
 * at once when the holder stops cleanly.
 */
export class PositionedConsumerRunner {
  private readonly holder = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly leaseMs: number;
  private stopping = false;
  private loop?: Promise<void>;
  private messages?: ConsumerMessages;
  private wake?: () => void;
  private position = 0;
  private holding = false;

  constructor(private readonly opts: PositionedConsumerOptions) {
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** Whether this replica holds the lease and reads (for tests and diagnostics). */
  get active(): boolean {
    return this.holding;
  }

  /** The position this replica has recorded (0 before it first held the lease). */
  get recorded(): number {
    return this.position;
  }

  async start(): Promise<void> {
    this.loop = this.run();
  }

  async stop(graceMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.wake?.();
    await this.messages?.close().catch(() => undefined);
    await Promise.race([this.loop, delay(graceMs)]);
    if (this.holding) await this.opts.store.release(this.opts.name, this.holder).catch(() => undefined);
    this.holding = false;
  }

  private async run(): Promise<void> {
    const { min, max } = this.opts.retryDelayMs ?? { min: 500, max: 15_000 };
    let wait = min;
    while (!this.stopping) {
      try {
        const position = await this.opts.store.acquire(this.opts.name, this.holder, this.leaseMs);
        if (position === null) {
          if (this.holding) this.opts.logger.log(`${this.opts.name}: another replica holds the lease now`);
          this.holding = false;
          await this.pause(Math.floor(this.leaseMs / 3));
          continue;
        }
        if (!this.holding) this.opts.logger.log(`${this.opts.name}: reading ${this.opts.stream} after position ${position}`);
        this.holding = true;
        this.position = await this.checkedPosition(position);
        await this.consume();
        wait = min;
      } catch (error) {
        if (this.stopping) return;
        if (error instanceof LeaseLost) {
          this.opts.logger.warn(`${this.opts.name}: the lease was lost (another replica took over)`);
          this.holding = false;
          continue;
        }
        this.opts.logger.error(`${this.opts.name}: reading stopped; reading again from position ${this.position} in ${wait} ms`, { cause: (error as Error)?.message });
        await this.pause(wait);
        wait = Math.min(max, wait * 2);
      }
    }
  }

  /** A recorded position past the stream's last message means the stream was recreated: read it from its start. */
  private async checkedPosition(position: number): Promise<number> {
    if (position === 0) return 0;
    const info = await this.opts.jsm.streams.info(this.opts.stream);
    if (info.state.last_seq >= position) return position;
    this.opts.logger.warn(`${this.opts.name}: ${this.opts.stream} ends at ${info.state.last_seq}, before the recorded position ${position} (recreated?): reading it from its start`);
    if (!(await this.opts.store.rewind(this.opts.name, this.holder, 0, this.leaseMs))) throw new LeaseLost();
    return 0;
  }

  /** Reads until stop, a failure, or a lost lease (thrown). */
  private async consume(): Promise<void> {
    const consumer = await this.opts.js.consumers.get(
      this.opts.stream,
      this.position === 0 ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.position + 1 },
    );
    const messages = await consumer.consume({ max_messages: Math.max(64, this.opts.maxBatch * 2) });
    this.messages = messages;
    if (this.stopping) await messages.close();
    let batch: JsMsg[] = [];
    let due = 0;
    let failure: unknown;
    // The lease is renewed by every batch, and by this timer while the stream is quiet.
    const renew = setInterval(() => {
      if (batch.length > 0) return;
      this.opts.store.advance(this.opts.name, this.holder, this.position, this.leaseMs).then(
        (held) => {
          if (!held) {
            failure ??= new LeaseLost();
            void messages.close();
          }
        },
        (error: unknown) => {
          failure ??= error;
          void messages.close();
        },
      );
    }, Math.floor(this.leaseMs / 3));
    // A quiet stream hands over what it has after maxWaitMs: a tick of the iterator would not come.
    const flushTimer = setInterval(() => {
      if (batch.length > 0 && Date.now() >= due) this.wake?.();
    }, Math.max(5, Math.floor(this.opts.maxWaitMs / 2)));
    try {
      const iterator = messages[Symbol.asyncIterator]();
      let next = iterator.next();
      for (;;) {
        const woken = new Promise<'wake'>((resolve) => (this.wake = () => resolve('wake')));
        const result = batch.length > 0 ? await Promise.race([next, woken]) : await next;
        if (result !== 'wake') {
          if (result.done) break;
          if (batch.length === 0) due = Date.now() + this.opts.maxWaitMs;
          batch.push(result.value);
          next = iterator.next();
        }
        if (this.stopping) break;
        if (batch.length >= this.opts.maxBatch || (batch.length > 0 && Date.now() >= due)) {
          const handing = batch;
          batch = [];
          await this.handle(handing);
        }
      }
    } finally {
      clearInterval(renew);
      clearInterval(flushTimer);
      this.wake = undefined;
      await messages.close().catch(() => undefined);
    }
    if (failure) throw failure;
    if (!this.stopping) throw new Error('the ordered consumer ended');
  }

  private async handle(batch: JsMsg[]): Promise<void> {
    const dispositions = await this.opts.handler(batch.map((msg) => ({ msg, deliveryCount: 1 })));
    for (const [i, disposition] of dispositions.entries()) {
      if (disposition.type === 'nak') throw new Error(`the handler asked for message ${batch[i].seq} again`);
      if (disposition.type !== 'term') continue;
      if (this.opts.deadLetterSubject) await recordDeadLetter(this.opts.js, this.opts.deadLetterSubject, this.opts.name, batch[i], disposition.reason);
      this.opts.logger.warn('message terminated', { consumer: this.opts.name, seq: batch[i].seq, reason: disposition.reason });
    }
    const last = batch[batch.length - 1].seq;
    if (!(await this.opts.store.advance(this.opts.name, this.holder, last, this.leaseMs))) throw new LeaseLost();
    this.position = last;
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
