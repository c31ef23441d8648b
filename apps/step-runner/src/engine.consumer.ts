import { Controller, Logger, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ConcurrencySlots, ExecutionTimers } from '@trigrun/execution-coordination';
import { JobContextStore } from '@trigrun/jobs';
import type { JsMsg } from '@nats-io/jetstream';
import { CONSUMERS } from '@trigrun/execution-contracts';
import { ExecutionEngine, engineFairness } from '@trigrun/execution-engine';
import { ExecutionStore, executionConsumerOptions, topologyOf } from '@trigrun/execution-store';
import { requestCallback } from '@trigrun/notifications';
import { GuardedHttpClient } from '@trigrun/http-client';
import { type Disposition, type Messaging, connectionEpoch } from '@trigrun/messaging';
import { CONFIG, InjectConfig, InjectMessaging, JetStreamContext, JetStreamTransport, MESSAGING, MessageErrorFilter, MetricsRegistry, ORM } from '@trigrun/nest';
import { SECRET_CIPHER, type SecretCipher, SecretsService, secretNamesIn, secretRedactor, substituteSecrets } from '@trigrun/secrets';
import type { StepRunnerConfig } from './config';
import { declareStepRunnerTopology } from './topology';

/**
 * The step-runner's one engine, shared by the execution events (EngineConsumer) and the
 * sweeper's re-drives (DriveConsumer), so that its in-progress rule covers both.
 */
export const executionEngineProvider = {
  provide: ExecutionEngine,
  inject: [MESSAGING, CONFIG, SecretsService, ORM, SECRET_CIPHER, MetricsRegistry],
  useFactory: (messaging: Messaging, config: StepRunnerConfig, secrets: SecretsService, orm: MikroORM, cipher: SecretCipher, metrics: MetricsRegistry): ExecutionEngine => {
    const logger = new Logger(CONSUMERS.stepRunnerEngine);
    const engine = new ExecutionEngine({
      store: new ExecutionStore(messaging.js, messaging.jsm, config.TRIGRUN_NAMESPACE),
      http: new GuardedHttpClient({ allowlist: config.TRIGRUN_OUTBOUND_ALLOWLIST, userAgent: 'TrigRun/0.1' }),
      secrets,
      references: { secretNamesIn, substituteSecrets, secretRedactor },
      workflows: {
        sealer: {
          seal: (plaintext, aad) => {
            const sealed = cipher.encrypt(plaintext, aad);
            return { ciphertext: sealed.ciphertext, key_version: sealed.keyVersion };
          },
          open: (sealed, aad) => cipher.decrypt(sealed.ciphertext, sealed.key_version, aad),
        },
        context: new JobContextStore(orm),
        timers: new ExecutionTimers(orm),
        slots: new ConcurrencySlots(orm),
      },
      requestCallback: (command) => requestCallback(messaging.js, config.TRIGRUN_NAMESPACE, command),
      now: () => new Date(),
      random: Math.random,
      logger: { warn: (m, meta) => logger.warn(m, meta), debug: (m, meta) => logger.debug(m, meta) },
      connectionEpoch: connectionEpoch(messaging.nc),
    });
    metrics.register({
      name: 'trigrun_engine_cached_executions',
      help: 'Executions held in the engine memory of this replica: in flight only (parked and queued ones are not).',
      value: () => engine.cachedExecutions,
    });
    return engine;
  },
};

/** Advances executions: starts them, sends their requests, records attempts and outcomes. */
@Controller()
@UseFilters(MessageErrorFilter)
export class EngineConsumer {
  constructor(
    @InjectMessaging() messaging: Messaging,
    @InjectConfig() config: StepRunnerConfig,
    private readonly engine: ExecutionEngine,
    transport: JetStreamTransport,
    metrics: MetricsRegistry,
  ) {
    transport.defineConsumer({
      ...executionConsumerOptions(config, CONSUMERS.stepRunnerEngine, config.TRIGRUN_ENGINE_CONCURRENCY),
      fairness: engineFairness(config.TRIGRUN_ENGINE_CONCURRENCY, config.TRIGRUN_WORKSPACE_MAX_IN_FLIGHT),
      prepare: () => declareStepRunnerTopology(messaging.jsm, topologyOf(config)),
    });
    const admission = () => transport.admissionStats(CONSUMERS.stepRunnerEngine);
    metrics.register({
      name: 'trigrun_engine_buffered_messages',
      help: 'Messages pulled but not started: waiting for a slot of their workspace (fair admission).',
      value: () => admission()?.buffered ?? 0,
    });
    metrics.register({
      name: 'trigrun_engine_handed_back_messages',
      help: 'Messages handed back to NATS since start because their workspace had more waiting than the step-runner buffers.',
      value: () => admission()?.handedBack ?? 0,
    });
    metrics.register({
      name: 'trigrun_engine_duplicate_deliveries',
      help: 'Deliveries of a message this replica already held (buffered or in flight), not started a second time.',
      value: () => admission()?.duplicates ?? 0,
    });
    metrics.register({
      name: 'trigrun_engine_out_of_order_starts',
      help: "Messages started ahead of an older message of their workspace that was handed back, because the step-runner's buffer was full (work before order, docs/fairness.md).",
      value: () => admission()?.outOfOrderStarts ?? 0,
    });
  }

  @EventPattern(CONSUMERS.stepRunnerEngine)
  handle(@Payload() msg: JsMsg, @Ctx() ctx: JetStreamContext): Promise<Disposition> {
    return this.engine.handle(msg, ctx);
  }
}
