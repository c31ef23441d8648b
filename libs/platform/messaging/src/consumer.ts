import { setMaxListeners } from 'node:events';
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';

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

export interface ConsumerRunnerOptions {
  readonly js: JetStreamClient;
  readonly stream: string;
  readonly durable: string;
  readonly handler: MessageHandler;
  /** Messages processed at once. */
  readonly concurrency: number;
  readonly ackWaitMs: number;
  readonly logger: { error(message: string, meta?: object): void; warn(message: string, meta?: object): void };
  /** Subject on which a terminated (poison) message is recorded, with its reason, before it is dropped. */
  readonly deadLetterSubject?: string;
}

/** Redelivery delay after a handler threw: grows with each delivery, capped at a minute. */
export const retryDelayMs = (deliveryCount: number): number => Math.min(60_000, 200 * 2 ** Math.min(deliveryCount - 1, 9));

/**
 * A durable pull consumer with explicit acks. A message is acked only after its handler resolved
 * (its effect is durable); a throwing handler naks with backoff; nothing is ever acked on error.
 * stop() stops pulling, lets in-flight handlers finish for up to the grace period, then hands
 * the rest back (nak) so another replica takes them at once.
 */
export class ConsumerRunner {
  private messages?: ConsumerMessages;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private stopping = false;

  constructor(private readonly opts: ConsumerRunnerOptions) {
    // Every in-flight handler listens on the one shutdown signal.
    setMaxListeners(0, this.abort.signal);
  }

  async start(): Promise<void> {
    const consumer = await this.opts.js.consumers.get(this.opts.stream, this.opts.durable);
    this.messages = await consumer.consume({ max_messages: Math.max(this.opts.concurrency, 16) });
    this.loop = this.run(this.messages);
  }

  get busy(): number {
    return this.inFlight.size;
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      if (this.stopping) {
        msg.nak();
        continue;
      }
      while (this.inFlight.size >= this.opts.concurrency) await Promise.race(this.inFlight);
      const task = this.process(msg).finally(() => this.inFlight.delete(task));
      this.inFlight.add(task);
    }
  }

  private async process(msg: JsMsg): Promise<void> {
    const heartbeat = setInterval(() => msg.working(), Math.max(500, Math.floor(this.opts.ackWaitMs / 3)));
    const ctx: MessageContext = { working: () => msg.working(), deliveryCount: msg.info.deliveryCount, signal: this.abort.signal };
    try {
      const disposition = await this.opts.handler(msg, ctx);
      switch (disposition.type) {
        case 'ack':
          await msg.ackAck().catch(() => msg.ack());
          break;
        case 'nak':
          msg.nak(disposition.delayMs);
          break;
        case 'term':
          await this.recordDeadLetter(msg, disposition.reason);
          this.opts.logger.warn('message terminated', { durable: this.opts.durable, seq: msg.seq, reason: disposition.reason });
          msg.term(disposition.reason);
          break;
      }
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

  /** Throws when the record cannot be written: the message is then redelivered, never silently lost. */
  private async recordDeadLetter(msg: JsMsg, reason: string): Promise<void> {
    if (!this.opts.deadLetterSubject) return;
    const h = natsHeaders();
    h.set('Trigrun-Dead-Letter-Reason', reason.slice(0, 1000));
    h.set('Trigrun-Original-Subject', msg.subject);
    h.set('Trigrun-Original-Sequence', String(msg.seq));
    await this.opts.js.publish(this.opts.deadLetterSubject, msg.data, {
      headers: h,
      msgID: `${this.opts.durable}:${msg.info.stream}:${msg.seq}`,
    });
  }

  async stop(graceMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.messages?.close().catch(() => undefined);
    const drained = Promise.all([...this.inFlight]);
    const timedOut = await Promise.race([drained.then(() => false), delay(graceMs).then(() => true)]);
    if (timedOut) this.abort.abort();
    await this.loop?.catch(() => undefined);
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
