import { type BeforeApplicationShutdown, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { type AdmissionStats, ConsumerRunner, type Disposition, type FairnessOptions, type MessageContext, type Messaging } from '@trigrun/messaging';

export interface HostedConsumerOptions {
  readonly stream: string;
  readonly durable: string;
  readonly concurrency: number;
  readonly ackWaitMs: number;
  readonly shutdownGraceMs: number;
  readonly deadLetterSubject?: string;
  /** Hand messages to handleBatch() in batches of up to this many (see ConsumerRunner). */
  readonly batchSize?: number;
  /** Share the slots out fairly by a key of each message (see ConsumerRunner). */
  readonly fairness?: FairnessOptions;
}

/**
 * A durable consumer that lives as long as the Nest app: it starts once the app has booted and,
 * on shutdown, stops taking messages and finishes (or hands back) the ones in flight before the
 * connections close.
 */
export abstract class HostedConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  protected readonly logger: Logger;
  private runner?: ConsumerRunner;

  protected constructor(
    protected readonly messaging: Messaging,
    private readonly options: HostedConsumerOptions,
  ) {
    this.logger = new Logger(options.durable);
  }

  /** Runs before the consumer starts: declare streams and consumers here. */
  protected async prepare(): Promise<void> {
    // nothing by default
  }

  protected abstract handle(msg: JsMsg, ctx: MessageContext): Promise<Disposition>;

  /** Batch mode (options.batchSize): one call for many messages, one disposition each. */
  protected handleBatch(deliveries: ReadonlyArray<{ msg: JsMsg; deliveryCount: number }>): Promise<Disposition[]> {
    return Promise.reject(new Error(`${this.options.durable} has a batchSize but no handleBatch (${deliveries.length} messages)`));
  }

  /** What fair admission holds (with `fairness`), for metrics. */
  protected get admissionStats(): AdmissionStats | undefined {
    return this.runner?.admissionStats;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.prepare();
    this.runner = new ConsumerRunner({
      js: this.messaging.js,
      stream: this.options.stream,
      durable: this.options.durable,
      concurrency: this.options.concurrency,
      ackWaitMs: this.options.ackWaitMs,
      handler: (msg, ctx) => this.handle(msg, ctx),
      deadLetterSubject: this.options.deadLetterSubject,
      fairness: this.options.fairness,
      // A subscription that ends under the runner declares the topology again first.
      recover: () => this.prepare(),
      batch: this.options.batchSize ? { maxBatch: this.options.batchSize, handler: (deliveries) => this.handleBatch(deliveries) } : undefined,
      logger: {
        error: (message, meta) => this.logger.error(message, meta),
        warn: (message, meta) => this.logger.warn(message, meta),
      },
    });
    await this.runner.start();
    this.logger.log(`consuming ${this.options.stream} as ${this.options.durable}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    const busy = this.runner?.busy ?? 0;
    await this.runner?.stop(this.options.shutdownGraceMs);
    this.logger.log(`stopped (${busy} message(s) were in flight)`);
  }
}
