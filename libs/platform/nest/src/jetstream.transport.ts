import { type ArgumentsHost, type BeforeApplicationShutdown, Catch, type ExceptionFilter, Inject, Injectable, Logger } from '@nestjs/common';
import { BaseRpcContext, type CustomTransportStrategy, type MessageHandler as NestMessageHandler, RpcException, Server } from '@nestjs/microservices';
import type { JsMsg } from '@nats-io/jetstream';
import {
  type AdmissionStats,
  ConsumerRunner,
  type Disposition,
  type FairnessOptions,
  type MessageContext,
  type Messaging,
  PositionedConsumerRunner,
  type PositionStore,
} from '@trigrun/messaging';
import { type Observable, isObservable, lastValueFrom, throwError } from 'rxjs';
import { MESSAGING } from './infrastructure';

/** One durable pull consumer, served by the `@EventPattern(durable)` handler of a controller. */
export interface JetStreamConsumerOptions {
  readonly stream: string;
  /** The durable's name, and the pattern its handler is registered under. */
  readonly durable: string;
  /** Messages (or, with `batchSize`, batches) handled at once. */
  readonly concurrency: number;
  readonly ackWaitMs: number;
  /** How long shutdown waits for messages in flight before it hands them back. */
  readonly shutdownGraceMs: number;
  readonly deadLetterSubject?: string;
  /** Hand the handler arrays of up to this many deliveries, answered by as many dispositions (see ConsumerRunner). */
  readonly batchSize?: number;
  /** Share the slots out fairly by a key of each message (see ConsumerRunner). */
  readonly fairness?: FairnessOptions;
  /**
   * Read with a position of its own instead of a durable with acks (PositionedConsumerRunner):
   * for a consumer of every event that acts on few (batch mode only; `durable` names its row in
   * the store). `maxWaitMs` is how long a batch waits for more.
   */
  readonly positioned?: { readonly store: PositionStore; readonly maxWaitMs: number; readonly leaseMs?: number };
  /**
   * Declares the streams and durables the consumer needs. Runs before it starts, and again when
   * its subscription ended under it (the durable deleted, a broker that lost its state).
   */
  readonly prepare?: () => Promise<void>;
}

export interface Delivery {
  readonly msg: JsMsg;
  readonly deliveryCount: number;
}

/**
 * What `@Ctx()` gives a handler of one message: the message, and the runner's means to keep it
 * (working(), the shutdown signal). It is a MessageContext, so it passes on as one.
 */
export class JetStreamContext extends BaseRpcContext<[JsMsg, MessageContext]> implements MessageContext {
  constructor(
    readonly durable: string,
    msg: JsMsg,
    private readonly runner: MessageContext,
  ) {
    super([msg, runner]);
  }

  getMessage(): JsMsg {
    return this.args[0];
  }

  working(): void {
    this.runner.working();
  }

  get deliveryCount(): number {
    return this.runner.deliveryCount;
  }

  get signal(): AbortSignal {
    return this.runner.signal;
  }
}

/** What `@Ctx()` gives a batch handler (`batchSize`): its payload is the ReadonlyArray<Delivery>. */
export class JetStreamBatchContext extends BaseRpcContext<[ReadonlyArray<Delivery>]> {
  constructor(
    readonly durable: string,
    deliveries: ReadonlyArray<Delivery>,
  ) {
    super([deliveries]);
  }
}

/**
 * A disposition a handler throws instead of returning (from a pipe or a guard, say). Nest's own
 * exception filter passes an RpcException's payload on, so this one arrives even without
 * MessageErrorFilter.
 */
export class DispositionException extends RpcException {
  constructor(readonly disposition: Disposition) {
    super(disposition);
  }
}

/**
 * Hands a message handler's error on as it was thrown. Nest's default filter for RPC contexts
 * replaces any error it does not know with "Internal server error" and logs it: the transport
 * then could not tell a thrown disposition from a failure, and the runner's log line (the one
 * operators search for) would lose the cause. Apply it to each consumer controller with
 * `@UseFilters(MessageErrorFilter)`.
 */
@Catch()
export class MessageErrorFilter implements ExceptionFilter {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}

const isDisposition = (value: unknown): value is Disposition => {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'ack' || type === 'nak' || type === 'term';
};

/** The disposition an error carries, when a handler threw one (plainly, or as a DispositionException). */
const thrownDisposition = (error: unknown): Disposition | undefined => {
  if (isDisposition(error)) return error;
  if (error instanceof RpcException && isDisposition(error.getError())) return error.getError() as Disposition;
  return undefined;
};

/**
 * The JetStream transport for Nest microservices: every `@EventPattern(durable)` handler is a
 * durable pull consumer run by a ConsumerRunner (explicit ack, nak with delay, term after the
 * dead letter is recorded, working() during long work, batches, fair admission, recovery of a
 * subscription that ends). Nest's own NATS transport speaks core NATS only.
 *
 * Controllers define their consumers on it from their constructors (defineConsumer); the service
 * connects it as a hybrid microservice (bootstrapService does). What the handler returns, or
 * throws, decides the message's fate: a Disposition settles it; any other error is the runner's
 * rule (nak with a growing delay). Interceptors may map the result; the transport resolves an
 * Observable to its last value, since a failing Nest handler comes back as an erroring
 * Observable, not as a rejected promise.
 *
 * It drains in beforeApplicationShutdown, as the consumers it replaces did: readiness has turned
 * false, HTTP still answers the probes, and the connections close only afterwards.
 */
@Injectable()
export class JetStreamTransport extends Server implements CustomTransportStrategy, BeforeApplicationShutdown {
  private readonly definitions = new Map<string, JetStreamConsumerOptions>();
  private readonly runners = new Map<string, { runner: ConsumerRunner | PositionedConsumerRunner; logger: Logger; options: JetStreamConsumerOptions }>();
  private closing?: Promise<void>;

  constructor(@Inject(MESSAGING) private readonly messaging: Messaging) {
    super();
  }

  /** Declares a consumer; its messages go to the `@EventPattern(options.durable)` handler. */
  defineConsumer(options: JetStreamConsumerOptions): void {
    if (this.definitions.has(options.durable)) throw new Error(`the JetStream consumer ${options.durable} is defined twice`);
    if (this.runners.size > 0) throw new Error(`the JetStream consumer ${options.durable} is defined after the transport started`);
    this.definitions.set(options.durable, options);
  }

  /** Whether any consumer is defined: a service without one connects no microservice. */
  get hasConsumers(): boolean {
    return this.definitions.size > 0;
  }

  /** What fair admission holds for a consumer defined with `fairness` (undefined before it starts), for metrics. */
  admissionStats(durable: string): AdmissionStats | undefined {
    const runner = this.runners.get(durable)?.runner;
    return runner instanceof ConsumerRunner ? runner.admissionStats : undefined;
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  private async start(): Promise<void> {
    const handlers = this.getHandlers();
    for (const [pattern, handler] of handlers) {
      if (!this.definitions.has(pattern)) throw new Error(`@EventPattern('${pattern}') names no consumer defined on the JetStream transport (defineConsumer)`);
      if (!handler.isEventHandler) throw new Error(`'${pattern}' is a @MessagePattern: the JetStream transport sends no replies, use @EventPattern`);
      // Two handlers of one message could not both settle it.
      if (handler.next) throw new Error(`'${pattern}' has more than one @EventPattern handler`);
    }
    // One after the other: consumers of one service declare the same topology, and declaring it
    // concurrently races stream creation against itself.
    for (const options of this.definitions.values()) {
      const handler = handlers.get(options.durable);
      if (!handler) throw new Error(`the JetStream consumer ${options.durable} has no @EventPattern('${options.durable}') handler`);
      await this.startConsumer(options, handler);
    }
  }

  private async startConsumer(options: JetStreamConsumerOptions, handler: NestMessageHandler): Promise<void> {
    const logger = new Logger(options.durable);
    await options.prepare?.();
    const { durable, positioned } = options;
    const batchHandler = (deliveries: ReadonlyArray<Delivery>) =>
      this.invoke(handler, deliveries, new JetStreamBatchContext(durable, deliveries)).then((result) => expectDispositions(durable, result, deliveries.length));
    const sink = {
      error: (message: string, meta?: Record<string, unknown>) => logger.error(message, meta),
      warn: (message: string, meta?: Record<string, unknown>) => logger.warn(message, meta),
      log: (message: string, meta?: Record<string, unknown>) => logger.log(message, meta),
    };
    if (positioned && !options.batchSize) throw new Error(`the positioned consumer ${durable} needs batchSize`);
    const runner = positioned
      ? new PositionedConsumerRunner({
          js: this.messaging.js,
          jsm: this.messaging.jsm,
          stream: options.stream,
          name: durable,
          store: positioned.store,
          maxBatch: options.batchSize!,
          maxWaitMs: positioned.maxWaitMs,
          leaseMs: positioned.leaseMs,
          handler: batchHandler,
          deadLetterSubject: options.deadLetterSubject,
          logger: sink,
        })
      : new ConsumerRunner({
          js: this.messaging.js,
          stream: options.stream,
          durable,
          concurrency: options.concurrency,
          ackWaitMs: options.ackWaitMs,
          handler: (msg, ctx) => this.invoke(handler, msg, new JetStreamContext(durable, msg, ctx)).then((result) => expectDisposition(durable, result)),
          batch: options.batchSize ? { maxBatch: options.batchSize, handler: batchHandler } : undefined,
          deadLetterSubject: options.deadLetterSubject,
          fairness: options.fairness,
          recover: options.prepare,
          logger: sink,
        });
    await runner.start();
    this.runners.set(durable, { runner, logger, options });
    logger.log(`consuming ${options.stream} as ${durable}${positioned ? ' (positioned)' : ''}`);
  }

  /**
   * Calls the handler Nest built (pipes, guards, interceptors, filters around the controller's
   * method) and settles its outcome to a value: a thrown disposition becomes the result, any other
   * error is rethrown for the runner. Nest's processing hooks (handleEvent) are skipped: they
   * discard the result, and the result is what decides the message.
   */
  private async invoke(handler: NestMessageHandler, payload: unknown, context: BaseRpcContext<unknown[]>): Promise<unknown> {
    try {
      const result: unknown = await handler(payload, context);
      return isObservable(result) ? await lastValueFrom(result, { defaultValue: undefined }) : result;
    } catch (error) {
      const disposition = thrownDisposition(error);
      if (disposition) return disposition;
      throw error;
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Stops taking messages and lets each consumer finish, or hand back, what it holds within its grace. */
  close(): Promise<void> {
    this.closing ??= Promise.all(
      [...this.runners.values()].map(async ({ runner, logger, options }) => {
        if (runner instanceof PositionedConsumerRunner) {
          await runner.stop(options.shutdownGraceMs);
          logger.log(`stopped at position ${runner.recorded}`);
          return;
        }
        const busy = runner.busy;
        await runner.stop(options.shutdownGraceMs);
        logger.log(`stopped (${busy} message(s) were in flight)`);
      }),
    ).then(() => undefined);
    return this.closing;
  }

  /** No transport events to listen to: the runners log what happens to their subscriptions. */
  on(): void {
    throw new Error('the JetStream transport emits no events');
  }

  unwrap<T>(): T {
    return this.messaging as T;
  }
}

function expectDisposition(durable: string, result: unknown): Disposition {
  if (isDisposition(result)) return result;
  throw new Error(`the ${durable} handler returned no disposition (ack, nak or term)`);
}

function expectDispositions(durable: string, result: unknown, count: number): Disposition[] {
  if (Array.isArray(result) && result.length === count && result.every(isDisposition)) return result;
  throw new Error(`the ${durable} batch handler returned no disposition for each of its ${count} messages`);
}
