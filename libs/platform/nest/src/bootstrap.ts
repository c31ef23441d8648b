import 'reflect-metadata';
import { Logger, type INestApplication, type Type, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';
import { ErrorEnvelopeFilter, clientErrorHandler, sendError, toApiError } from './error.filter';
import { installHostileInputGuard } from './hostile-input';
import { Infrastructure } from './infrastructure';
import { JetStreamTransport } from './jetstream.transport';
import { JsonLogger, type Level } from './logger';
import { createValidationPipe } from './validation';

export interface ServiceOptions {
  readonly name: string;
  readonly module: Type<unknown> | DynamicModule;
  readonly config: {
    readonly PORT: number;
    readonly HOST: string;
    readonly TRIGRUN_LOG_LEVEL: Level;
    readonly TRIGRUN_PRETTY_LOGS: boolean;
  };
  /** Largest request body accepted, in bytes (README.md, "The API": bodies up to 1 MiB). */
  readonly bodyLimit?: number;
  readonly configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

/**
 * Boots one service: fastify, the error envelope, the hostile-input guard (JSON depth, text that
 * cannot be stored: see hostile-input.ts), validation, JSON logs, and a graceful stop on
 * SIGTERM/SIGINT — readiness turns false first, consumers stop taking work and finish or hand
 * back what they hold, then connections close.
 *
 * A service whose controllers define JetStream consumers runs as a hybrid app: the transport is
 * connected as its microservice and starts after the app's bootstrap hooks and before the HTTP
 * port opens, as the consumers it replaced did; it drains in beforeApplicationShutdown, so before
 * HTTP closes and before the connections do. Its handlers get none of the HTTP globals (the
 * envelope filter, the validation pipe, the auth guard): messages are not requests.
 */
export async function bootstrapService(opts: ServiceOptions): Promise<INestApplication> {
  const logger = new JsonLogger(opts.name, opts.config.TRIGRUN_LOG_LEVEL, opts.config.TRIGRUN_PRETTY_LOGS);
  const adapter = new FastifyAdapter({
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    trustProxy: true,
    // `__proto__` keys are refused (400): assigned anywhere, they would change a prototype. A
    // `constructor` key is data like any other and is kept (the default refused some, silently
    // dropped by class-transformer otherwise).
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'ignore',
    // A URL that does not decode (`%ZZ`, `%ED%A0%80`) or a path parameter past the router's length
    // limit is answered before any route runs: in the envelope, like everything else.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => sendError(reply, request.raw, toApiError(error)),
    // Request lines and headers past Node's limits never reach fastify: answered on the socket.
    clientErrorHandler,
    // fastify's own 503 while closing has a body of its own; installShutdownGate answers in the envelope.
    return503OnClosing: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(opts.module, adapter, { logger, bufferLogs: true });
  // An error nobody classified that meets a dependency outage is answered as the outage (503).
  const infra = app.get(Infrastructure, { strict: false });
  app.useGlobalFilters(new ErrorEnvelopeFilter(() => infra.readiness()));
  app.useGlobalPipes(createValidationPipe());
  installHostileInputGuard(app.getHttpAdapter().getInstance());
  installShutdownGate(app);
  const transport = app.get(JetStreamTransport, { strict: false });
  if (transport.hasConsumers) app.connectMicroservice({ strategy: transport });
  await opts.configure?.(app);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    Logger.log(`${signal} received: shutting down`, 'bootstrap');
    app.get(Infrastructure).markShuttingDown();
    try {
      await app.close();
      process.exit(0);
    } catch (error) {
      Logger.error(`shutdown failed: ${(error as Error).message}`, 'bootstrap');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  // init() runs the bootstrap hooks (listen() would too) before the consumers start taking work.
  await app.init();
  if (transport.hasConsumers) await app.startAllMicroservices();
  await app.listen(opts.config.PORT, opts.config.HOST);
  Logger.log(`${opts.name} listening on ${await app.getUrl()}`, 'bootstrap');
  return app;
}

/** Paths a stopping service still answers itself: the probes, so a load balancer sees it leave. */
const PROBES = new Set(['/healthz', '/readyz']);
/** Seconds a client is told to wait before it repeats a request refused by a stopping instance (another one, or this one restarted, will take it). */
const SHUTDOWN_RETRY_AFTER_SECONDS = 1;

/**
 * Once a service stops (SIGTERM, or its fastify instance closing), every new request is answered
 * `503 unavailable` in the envelope, with Retry-After and `Connection: close` so the client's next
 * attempt opens a connection to an instance that stays; requests already running finish. It
 * replaces fastify's `return503OnClosing`, whose body is not the envelope.
 */
export function installShutdownGate(app: NestFastifyApplication): void {
  const instance = app.getHttpAdapter().getInstance();
  const infra = app.get(Infrastructure, { strict: false });
  instance.addHook('preClose', (done: () => void) => {
    infra.markShuttingDown();
    done();
  });
  instance.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (!infra.isShuttingDown || PROBES.has(request.url.split('?')[0])) return done();
    const error = ApiError.unavailable('This instance is shutting down; repeat the request', SHUTDOWN_RETRY_AFTER_SECONDS, { retry_after_seconds: SHUTDOWN_RETRY_AFTER_SECONDS });
    void reply.header('connection', 'close');
    sendError(reply, request.raw, error);
  });
}

/** Config errors are printed plainly and end the process before anything starts. */
export function exitOnConfigError(name: string, error: unknown): never {
  process.stderr.write(`${name}: ${(error as Error).message}\n`);
  process.exit(78);
}

/** The whole of a service's main.ts: parse config (or exit naming the bad variables), then boot. */
export function runService<C extends ServiceOptions['config']>(opts: {
  readonly name: string;
  readonly loadConfig: () => C;
  readonly module: (config: C) => DynamicModule;
  readonly configure?: (app: NestFastifyApplication, config: C) => void | Promise<void>;
}): void {
  let config: C;
  try {
    config = opts.loadConfig();
  } catch (error) {
    exitOnConfigError(opts.name, error);
  }
  bootstrapService({ name: opts.name, module: opts.module(config), config, configure: (app) => opts.configure?.(app, config) }).catch((error) => {
    process.stderr.write(`${opts.name}: failed to start: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  });
}
