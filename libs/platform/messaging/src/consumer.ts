import { setMaxListeners } from 'node:events';
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { recordDeadLetter } from './dead-letters';
import { type AdmissionLimits, FairAdmission } from './fair-admission';

/** What a handler wants done with its message. */
export type Disposition =
  | { readonly type: 'ack' }
  /** Deliver again after `delayMs` (a transient failure, or a durable timer). */
  | { readonly type: 'nak'; readonly delayMs: number }
  /** Never deliver again: a poison message, recorded by the handler before it says so. */
  | { readonly type: 'term'; readonly reason: string };

export const ack = (): Disposition => ({ type: 'ack' });
export const nakAfter = (delayMs: number): Disposition => ({ type: 'nak', delayMs: Math.max(0, Math.round(delayMs)) });
export const term = (reason: string): Disposition => ({ type: 'term', reason });

export interface MessageContext {
  /** Tells the server the message is still being worked on, so ack_wait does not expire mid-request. */
  working(): void;
  readonly deliveryCount: number;
  readonly signal: AbortSignal;
}

export type MessageHandler = (msg: JsMsg, ctx: MessageContext) => Promise<Disposition>;
export type BatchHandler = (deliveries: ReadonlyArray<{ msg: JsMsg; deliveryCount: number }>) => Promise<Disposition[]>;

/**
 * Fair shares of the consumer's slots among keys (the step-runner's workspaces), see
 * fair-admission.ts. The runner then never stops pulling: a message that cannot start waits in a
 * bounded local buffer (kept alive with working()), or is handed back with a delay, so one key's
 * backlog never stands between the server and another key's messages.
 */
export interface FairnessOptions extends Omit<AdmissionLimits, 'maxInFlight'> {
  /** The key of a message, read before its handler runs (cheaply: a header, not the payload, where it can). */
  readonly keyOf: (msg: JsMsg) => string;
}

export interface AdmissionStats {
  readonly inFlight: number;
  readonly buffered: number;
  readonly bufferedBytes: number;
  /** Messages handed back since start (a key over its buffer, or shutdown). */
  readonly handedBack: number;
  /** Deliveries of a message already buffered or in flight here, not started again. */
  readonly duplicates: number;
  /** Messages started ahead of an older one of their key that was handed back, because the buffer was full (fair-admission.ts). */
  readonly outOfOrderStarts: number;
}

interface Admitted {
  readonly key: string;
  readonly seq: number;
  readonly size: number;
  readonly msg: JsMsg;
}

/** How long a batch waits for more messages before it is handed over. */
const BATCH_WAIT_MS = 5;
/** How often fair admission looks for workspaces that time has unblocked. */
const SWEEP_MS = 250;
/** Redelivery delay of the buffered messages handed back by stop() (see there). */
const SHUTDOWN_HAND_BACK_DELAY_MS = 200;

export interface ConsumerRunnerOptions {
  readonly js: JetStreamClient;
  readonly stream: string;
  readonly durable: string;
  readonly handler: MessageHandler;
  /**
   * Batch mode: messages are handed over together (up to `maxBatch`, or whatever arrived within a
   * few milliseconds) and `concurrency` counts batches. For handlers that write many messages
   * in one transaction.
   */
  readonly batch?: { readonly maxBatch: number; readonly handler: BatchHandler };
  /** Messages (or, in batch mode, batches) processed at once. */
  readonly concurrency: number;
  /** Share `concurrency` out fairly among the keys of the messages (not with `batch`). */
  readonly fairness?: FairnessOptions;
  readonly ackWaitMs: number;
  readonly logger: { error(message: string, meta?: object): void; warn(message: string, meta?: object): void };
  /** Subject on which a terminated (poison) message is recorded, with its reason, before it is dropped. */
  readonly deadLetterSubject?: string;
  /**
   * Declares the stream and durable again (the service's topology). Called before subscribing
   * anew when the subscription ended under the runner: the durable was deleted, or a broker that
   * lost its state came back without it.
   */
  readonly recover?: () => Promise<void>;
  /** Delay between attempts to subscribe again, doubling from `min` to `max` (default 500 ms to 15 s). */
  readonly recoverDelayMs?: { readonly min: number; readonly max: number };
}

/** Redelivery delay after a handler threw: grows with each delivery, capped at a minute. */
export const retryDelayMs = (deliveryCount: number): number => Math.min(60_000, 200 * 2 ** Math.min(deliveryCount - 1, 9));

/**
 * A durable pull consumer with explicit acks. A message is acked only after its handler resolved
 * (its effect is durable); a throwing handler naks with backoff; nothing is ever acked on error.
 * stop() stops pulling, hands back whatever waits unstarted (the fairness buffer), lets in-flight
 * handlers finish for up to the grace period, then hands the rest back (nak) so another replica
 * takes them at once.
 */
export class ConsumerRunner {
  private messages?: ConsumerMessages;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private stopping = false;
  private pending: JsMsg[] = [];
  private batchTimer?: NodeJS.Timeout;
  private readonly admission?: FairAdmission<Admitted>;
  private keepAlive?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;
  private handedBack = 0;
  /** Stream sequences buffered or in flight here (fair mode): a second delivery of one is not started again. */
  private readonly held = new Set<number>();
  private duplicates = 0;

  constructor(private readonly opts: ConsumerRunnerOptions) {
    // Every in-flight handler listens on the one shutdown signal.
    setMaxListeners(0, this.abort.signal);
    const fair = opts.fairness;
    if (fair) {
      if (opts.batch) throw new Error(`${opts.durable}: fairness and batch mode do not combine`);
      const { keyOf: _keyOf, ...limits } = fair;
      this.admission = new FairAdmission({ ...limits, maxInFlight: opts.concurrency, maxInFlightPerKey: Math.min(fair.maxInFlightPerKey, opts.concurrency) });
    }
  }

  async start(): Promise<void> {
    this.messages = await this.subscribe();
    if (this.admission) {
      const admission = this.admission;
      // Buffered messages are unacked like those in flight: without progress acks the server would
      // redeliver them after ack_wait while they still wait here.
      this.keepAlive = setInterval(() => {
        for (const item of admission.waiting()) item.msg.working();
      }, this.heartbeatMs());
      this.keepAlive.unref();
      // A workspace waiting for a handed-back message that went to another replica is unblocked
      // by time alone (its hold expires): look now and then.
      this.sweeper = setInterval(() => {
        if (this.stopping) return;
        for (const item of admission.sweep(Date.now())) this.launch(item, admission);
      }, SWEEP_MS);
      this.sweeper.unref();
    }
    this.loop = this.run(this.messages);
  }

  get busy(): number {
    return this.inFlight.size;
  }

  /** What fair admission holds right now; undefined without `fairness`. */
  get admissionStats(): AdmissionStats | undefined {
    if (!this.admission) return undefined;
    return { inFlight: this.admission.inFlight, buffered: this.admission.buffered, bufferedBytes: this.admission.bufferedBytes, handedBack: this.handedBack, duplicates: this.duplicates, outOfOrderStarts: this.admission.outOfOrderStarts };
  }

  private heartbeatMs(): number {
    return Math.max(500, Math.floor(this.opts.ackWaitMs / 3));
  }

  /**
   * A pull subscription that ends instead of waiting when its durable or stream is missing
   * (nats.js would otherwise wait, silently, for someone to recreate them: nobody would).
   */
  private async subscribe(): Promise<ConsumerMessages> {
    const consumer = await this.opts.js.consumers.get(this.opts.stream, this.opts.durable);
    // A batch consumer pulls a whole batch at a time: pulled 16 by 16, every batch of a busy
    // stream cost sixteen pull round trips and came out small.
    const pull = this.opts.batch ? this.opts.batch.maxBatch * this.opts.concurrency : this.opts.concurrency;
    return consumer.consume({ max_messages: Math.max(pull, 16), abort_on_missing_resource: true });
  }

  /**
   * Consumes until stop(). A subscription that ends any other way (its durable deleted, a status
   * error, heartbeats missed) is opened again, after declaring the topology again, with backoff:
   * returning would leave the service up, ready, and deaf. Messages held from the old
   * subscription stay valid: their acks go by reply subject, not through the pull.
   */
  private async run(first: ConsumerMessages): Promise<void> {
    const { min, max } = this.opts.recoverDelayMs ?? { min: 500, max: 15_000 };
    let messages = first;
    let wait = min;
    for (;;) {
      let ended: unknown = null;
      try {
        await this.consumeFrom(messages);
      } catch (error) {
        ended = error;
      }
      if (this.stopping) return;
      for (;;) {
        this.opts.logger.warn(`${this.opts.durable}: subscription ended; subscribing again in ${wait} ms`, { cause: ended instanceof Error ? ended.message : 'the iterator closed' });
        await delay(wait);
        wait = Math.min(max, wait * 2);
        if (this.stopping) return;
        try {
          await this.opts.recover?.();
          messages = await this.subscribe();
          this.messages = messages;
          break;
        } catch (error) {
          ended = error;
        }
      }
      if (this.stopping) {
        await messages.close().catch(() => undefined);
        return;
      }
      wait = min;
    }
  }

  private async consumeFrom(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      if (this.stopping) {
        // A second delivery of one still in flight here is left to the handler that holds it.
        if (!this.held.has(msg.seq)) msg.nak();
        continue;
      }
      if (this.opts.batch) {
        this.pending.push(msg);
        if (this.pending.length >= this.opts.batch.maxBatch) await this.dispatchBatch();
        else this.batchTimer ??= setTimeout(() => void this.dispatchBatch(), BATCH_WAIT_MS);
        continue;
      }
      if (this.admission) {
        this.admit(msg, this.admission);
        continue;
      }
      while (this.inFlight.size >= this.opts.concurrency) await Promise.race(this.inFlight);
      const task = this.process(msg).finally(() => this.inFlight.delete(task));
      this.inFlight.add(task);
    }
  }

  /** Never waits: the message starts, waits in the buffer, or goes back to the server for later. */
  private admit(msg: JsMsg, admission: FairAdmission<Admitted>): void {
    // The server can deliver a message again while it is still here (seen after a consumer of
    // the same durable died with pull requests open). Starting it twice would repeat its effect
    // (a second request to the target); the handler already holding it settles it for both.
    if (this.held.has(msg.seq)) {
      this.duplicates++;
      return;
    }
    let key: string;
    try {
      key = this.opts.fairness!.keyOf(msg);
    } catch {
      // Unreadable messages share one key; their handler decides what they are (usually poison).
      key = '';
    }
    const step = admission.offer({ key, seq: msg.seq, size: msg.data.length, msg }, Date.now());
    for (const item of step.handBack) {
      this.held.delete(item.seq);
      item.msg.nak(step.handBackDelayMs);
      this.handedBack++;
    }
    if (!step.handBack.some((item) => item.msg === msg)) this.held.add(msg.seq);
    for (const item of step.start) this.launch(item, admission);
  }

  private launch(item: Admitted, admission: FairAdmission<Admitted>): void {
    const task = this.process(item.msg).finally(() => {
      this.inFlight.delete(task);
      this.held.delete(item.seq);
      for (const next of admission.finished(item.key, Date.now())) this.launch(next, admission);
    });
    this.inFlight.add(task);
  }

  private async dispatchBatch(): Promise<void> {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    while (this.inFlight.size >= this.opts.concurrency) await Promise.race(this.inFlight);
    // Whatever arrived while the previous batch was busy goes together.
    const batch = this.pending.splice(0, this.pending.length);
    if (batch.length === 0) return;
    const task = this.processBatch(batch).finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  private async processBatch(batch: JsMsg[]): Promise<void> {
    const heartbeat = setInterval(() => batch.forEach((m) => m.working()), this.heartbeatMs());
    try {
      const dispositions = await this.opts.batch!.handler(batch.map((msg) => ({ msg, deliveryCount: msg.info.deliveryCount })));
      await Promise.all(batch.map((msg, i) => this.settle(msg, dispositions[i])));
    } catch (error) {
      this.opts.logger.error('batch handler failed; messages will be redelivered', {
        durable: this.opts.durable,
        messages: batch.length,
        error: (error as Error)?.message,
      });
      for (const msg of batch) msg.nak(retryDelayMs(msg.info.deliveryCount));
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async process(msg: JsMsg): Promise<void> {
    const heartbeat = setInterval(() => msg.working(), this.heartbeatMs());
    const ctx: MessageContext = { working: () => msg.working(), deliveryCount: msg.info.deliveryCount, signal: this.abort.signal };
    try {
      await this.settle(msg, await this.opts.handler(msg, ctx));
    } catch (error) {
      this.opts.logger.error('handler failed; message will be redelivered', {
        durable: this.opts.durable,
        seq: msg.seq,
        delivery: msg.info.deliveryCount,
        error: (error as Error)?.message,
      });
      msg.nak(retryDelayMs(msg.info.deliveryCount));
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * Applies a disposition. A plain ack suffices: the effect is already durable, and an ack the
   * server never saw only means one harmless redelivery.
   */
  private async settle(msg: JsMsg, disposition: Disposition): Promise<void> {
    switch (disposition.type) {
      case 'ack':
        msg.ack();
        break;
      case 'nak':
        msg.nak(disposition.delayMs);
        break;
      case 'term':
        if (this.opts.deadLetterSubject) await recordDeadLetter(this.opts.js, this.opts.deadLetterSubject, this.opts.durable, msg, disposition.reason);
        this.opts.logger.warn('message terminated', { durable: this.opts.durable, seq: msg.seq, reason: disposition.reason });
        // A plain +TERM: nats-server 2.9 takes only that exact token and ignores `+TERM <reason>`,
        // so a terminated message came back after every ack_wait. The reason is in the dead letter.
        msg.term();
        break;
    }
  }

  async stop(graceMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // Buffered messages were never started: from here on a freeing slot starts none of them.
    clearInterval(this.keepAlive);
    clearInterval(this.sweeper);
    const unstarted = this.admission?.drain() ?? [];
    await this.messages?.close().catch(() => undefined);
    // Handed back after this consumer's pull is closed, with a short delay: a message nak-ed
    // without one was seen (nats-server 2.9) to go to the closed pull request and be lost until
    // ack_wait. The delay lets the server drop that request first; another replica takes them then.
    for (const item of unstarted) {
      this.held.delete(item.seq);
      item.msg.nak(SHUTDOWN_HAND_BACK_DELAY_MS);
    }
    this.handedBack += unstarted.length;
    clearTimeout(this.batchTimer);
    for (const msg of this.pending.splice(0)) msg.nak();
    const drained = Promise.all([...this.inFlight]);
    const timedOut = await Promise.race([drained.then(() => false), delay(graceMs).then(() => true)]);
    if (timedOut) this.abort.abort();
    await this.loop?.catch(() => undefined);
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
