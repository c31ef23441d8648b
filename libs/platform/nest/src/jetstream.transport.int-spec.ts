import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { type CallHandler, Controller, type ExecutionContext, type INestApplication, type LoggerService, Module, type NestInterceptor, UseFilters, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { JsMsg } from '@nats-io/jetstream';
import { type Disposition, type Messaging, ack, closeMessaging, connectMessaging, ensureConsumer, ensureStream, nakAfter, term } from '@trigrun/messaging';
import { type Observable, tap } from 'rxjs';
import { MESSAGING } from './infrastructure';
import { type Delivery, DispositionException, JetStreamBatchContext, JetStreamContext, JetStreamTransport, MessageErrorFilter } from './jetstream.transport';

const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';
const ACK_WAIT_MS = 2_000;
const ONE = 'transport-spec-one';
const BATCH = 'transport-spec-batch';

jest.setTimeout(60_000);

const ns = `t${randomUUID().replace(/-/g, '').slice(0, 10)}`;
const stream = `${ns.toUpperCase()}_TRANSPORT`;
const subjects = { one: `${ns}.msg.one`, batch: `${ns}.msg.batch`, deadLetters: `${ns}.dlq.spec` };

interface Seen {
  readonly body: string;
  readonly delivery: number;
  readonly at: number;
}
const seen: Seen[] = [];
const batches: number[] = [];
let intercepted = 0;
const slow = { started: false, finished: false };
const logged: string[] = [];

const declare = async (messaging: Messaging) => {
  await ensureStream(messaging.jsm, { name: stream, subjects: [`${ns}.msg.*`, `${ns}.dlq.*`], duplicateWindowMs: 60_000 }, 1);
  for (const [durable, filterSubject] of [
    [ONE, subjects.one],
    [BATCH, subjects.batch],
  ]) {
    await ensureConsumer(messaging.jsm, { stream, durable, filterSubject, ackWaitMs: ACK_WAIT_MS, maxAckPending: 100, maxDeliver: -1 });
  }
};

/** Answers each message by what its body asks for, on its first delivery; acks the later ones. */
@Controller()
@UseFilters(MessageErrorFilter)
class OneConsumer {
  constructor(transport: JetStreamTransport) {
    transport.defineConsumer({ stream, durable: ONE, concurrency: 8, ackWaitMs: ACK_WAIT_MS, shutdownGraceMs: 5_000, deadLetterSubject: subjects.deadLetters });
  }

  @EventPattern(ONE)
  async handle(@Payload() msg: JsMsg, @Ctx() ctx: JetStreamContext): Promise<Disposition> {
    const body = msg.string();
    seen.push({ body, delivery: ctx.deliveryCount, at: Date.now() });
    const [verb] = body.split(':');
    if (verb === 'slow') {
      slow.started = true;
      await new Promise((resolve) => setTimeout(resolve, 800));
      slow.finished = true;
      return ack();
    }
    if (ctx.deliveryCount > 1) return ack();
    switch (verb) {
      case 'nak':
        return nakAfter(400);
      case 'term':
        return term('returned poison');
      case 'throw':
        throw new Error('boom from the handler');
      case 'throw-term':
        throw new DispositionException(term('thrown poison'));
      case 'nothing':
        return undefined as unknown as Disposition;
      default:
        return ack();
    }
  }
}

class CountingInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(tap(() => intercepted++));
  }
}

/** A batch consumer behind an interceptor: its handler's result reaches the transport as an Observable. */
@Controller()
@UseFilters(MessageErrorFilter)
@UseInterceptors(CountingInterceptor)
class BatchConsumer {
  constructor(transport: JetStreamTransport) {
    transport.defineConsumer({ stream, durable: BATCH, concurrency: 1, batchSize: 10, ackWaitMs: ACK_WAIT_MS, shutdownGraceMs: 5_000 });
  }

  @EventPattern(BATCH)
  handleBatch(@Payload() deliveries: ReadonlyArray<Delivery>, @Ctx() ctx: JetStreamBatchContext): Promise<Disposition[]> {
    expect(ctx.durable).toBe(BATCH);
    batches.push(deliveries.length);
    for (const { msg, deliveryCount } of deliveries) seen.push({ body: msg.string(), delivery: deliveryCount, at: Date.now() });
    if (deliveries.some((d) => d.msg.string() === 'batch:boom' && d.deliveryCount === 1)) return Promise.reject(new Error('batch boom'));
    return Promise.resolve(deliveries.map(() => ack()));
  }
}

const captureLogger: LoggerService = {
  log: () => undefined,
  warn: (message: unknown) => void logged.push(String(message)),
  error: (message: unknown, ...rest: unknown[]) => void logged.push(`${String(message)} ${JSON.stringify(rest)}`),
};

/** A service as bootstrapService starts one: the transport a global provider, connected as the app's microservice. */
async function boot(consumers: unknown, messaging: Messaging): Promise<INestApplication> {
  const transportModule = { module: class TransportModule {}, global: true, providers: [{ provide: MESSAGING, useValue: messaging }, JetStreamTransport], exports: [JetStreamTransport] };
  @Module({ imports: [transportModule, consumers as never] })
  class Root {}
  const app = await NestFactory.create(Root, new FastifyAdapter(), { logger: captureLogger });
  app.connectMicroservice({ strategy: app.get(JetStreamTransport) });
  await app.init();
  await app.startAllMicroservices();
  return app;
}

const waitFor = async (check: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

const deliveriesOf = (body: string) => seen.filter((s) => s.body === body);

/**
 * The JetStream transport against the real NATS, booted as bootstrapService boots a service: the
 * disposition a handler returns or throws decides ack, nak or term; any other error is redelivered
 * with its cause logged; batches go through Nest's interceptors; close() drains what is in flight.
 */
describe('JetStreamTransport (real NATS)', () => {
  let messaging: Messaging;
  let app: INestApplication;

  @Module({ controllers: [OneConsumer, BatchConsumer] })
  class ConsumersModule {}

  beforeAll(async () => {
    messaging = await connectMessaging(NATS_URL, 'jetstream-transport-spec');
    await declare(messaging);
    // Published before the consumer starts, so that they arrive together: one batch.
    for (const i of [1, 2, 3, 4, 5]) await messaging.js.publish(subjects.batch, `batch:${i}`);
    app = await boot(ConsumersModule, messaging);
  });

  afterAll(async () => {
    await app?.close().catch(() => undefined);
    await messaging.jsm.streams.delete(stream).catch(() => undefined);
    await closeMessaging(messaging);
  });

  const publish = (body: string) => messaging.js.publish(subjects.one, body);
  const pending = async (durable: string) => {
    const info = await messaging.jsm.consumers.info(stream, durable);
    return info.num_ack_pending + info.num_pending;
  };
  const deadLetters = async () => {
    const found: { reason: string; body: string }[] = [];
    const info = await messaging.jsm.streams.info(stream);
    for (let seq = 1; seq <= info.state.last_seq; seq++) {
      const m = await messaging.jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (m?.subject === subjects.deadLetters) found.push({ reason: m.header.get('Trigrun-Dead-Letter-Reason'), body: new TextDecoder().decode(m.data) });
    }
    return found;
  };

  it('acks what the handler acks: delivered once, nothing left pending', async () => {
    await publish('ack:1');
    await waitFor(async () => deliveriesOf('ack:1').length === 1 && (await pending(ONE)) === 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(deliveriesOf('ack:1')).toHaveLength(1);
  });

  it('redelivers a nak after its delay', async () => {
    await publish('nak:1');
    await waitFor(() => deliveriesOf('nak:1').length === 2);
    const [first, second] = deliveriesOf('nak:1');
    expect(second.delivery).toBe(2);
    expect(second.at - first.at).toBeGreaterThanOrEqual(350);
  });

  it('terminates a returned or a thrown term after recording its dead letter, and never redelivers it', async () => {
    await publish('term:1');
    await publish('throw-term:1');
    await waitFor(async () => (await deadLetters()).length === 2);
    expect(await deadLetters()).toEqual(
      expect.arrayContaining([
        { reason: 'returned poison', body: 'term:1' },
        { reason: 'thrown poison', body: 'throw-term:1' },
      ]),
    );
    // Past ack_wait: a term the server ignored would have come back by now.
    await new Promise((resolve) => setTimeout(resolve, ACK_WAIT_MS + 500));
    expect(await pending(ONE)).toBe(0);
    expect(deliveriesOf('term:1')).toHaveLength(1);
    expect(deliveriesOf('throw-term:1')).toHaveLength(1);
  });

  it('redelivers after a thrown error, with its cause in the log (not Nest\'s "Internal server error")', async () => {
    await publish('throw:1');
    await waitFor(() => deliveriesOf('throw:1').length === 2);
    expect(deliveriesOf('throw:1').map((s) => s.delivery)).toEqual([1, 2]);
    expect(logged.some((line) => line.includes('handler failed; message will be redelivered') && line.includes('boom from the handler'))).toBe(true);
  });

  it('redelivers when the handler resolves to no disposition', async () => {
    await publish('nothing:1');
    await waitFor(() => deliveriesOf('nothing:1').length === 2);
    expect(logged.some((line) => line.includes('returned no disposition'))).toBe(true);
  });

  it('hands batches to the batch handler through its interceptor, and redelivers a whole batch that failed', async () => {
    await waitFor(() => [1, 2, 3, 4, 5].every((i) => deliveriesOf(`batch:${i}`).length === 1));
    expect(Math.max(...batches)).toBeGreaterThan(1);
    expect(intercepted).toBeGreaterThan(0);
    await messaging.js.publish(subjects.batch, 'batch:boom');
    await waitFor(() => deliveriesOf('batch:boom').length === 2);
    expect(deliveriesOf('batch:boom').map((s) => s.delivery)).toEqual([1, 2]);
    await waitFor(async () => (await pending(BATCH)) === 0);
  });

  it('on close, stops taking messages and finishes the one in flight before it returns', async () => {
    await publish('slow:1');
    await waitFor(() => slow.started);
    await app.close();
    expect(slow.finished).toBe(true);
    await waitFor(async () => (await pending(ONE)) === 0);
    // Nothing published after the close is taken.
    await publish('ack:after-close');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(deliveriesOf('ack:after-close')).toHaveLength(0);
    expect(deliveriesOf('slow:1')).toHaveLength(1);
  });
});

describe('JetStreamTransport start-up', () => {
  let messaging: Messaging;

  beforeAll(async () => {
    messaging = await connectMessaging(NATS_URL, 'jetstream-transport-start-spec');
  });

  afterAll(async () => {
    await closeMessaging(messaging);
  });

  it('refuses an @EventPattern that names no defined consumer', async () => {
    @Controller()
    class Orphan {
      @EventPattern('nobody-defined-this')
      handle(): Disposition {
        return ack();
      }
    }
    @Module({ controllers: [Orphan] })
    class OrphanModule {}
    await expect(boot(OrphanModule, messaging)).rejects.toThrow(/names no consumer defined/);
  });
});
