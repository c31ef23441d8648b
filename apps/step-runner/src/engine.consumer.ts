import { Inject, Injectable } from '@nestjs/common';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ConcurrencySlots, ExecutionTimers } from '@trigrun/execution-coordination';
import { JobContextStore } from '@trigrun/jobs';
import type { JsMsg } from '@nats-io/jetstream';
import type { ExecutionIdentity } from '@trigrun/execution-domain';
import { CONSUMERS } from '@trigrun/execution-contracts';
import { ExecutionEngine, engineFairness } from '@trigrun/execution-engine';
import { ExecutionStore, executionConsumerOptions, topologyOf } from '@trigrun/execution-store';
import { requestCallback } from '@trigrun/notifications';
import { GuardedHttpClient } from '@trigrun/http-client';
import { type Disposition, type MessageContext, type Messaging, connectionEpoch } from '@trigrun/messaging';
import { HostedConsumer, InjectConfig, InjectMessaging, InjectOrm, MetricsRegistry } from '@trigrun/nest';
import { SECRET_CIPHER, type SecretCipher, SecretsService, secretNamesIn, secretRedactor, substituteSecrets } from '@trigrun/secrets';
import type { StepRunnerConfig } from './config';
import { declareStepRunnerTopology } from './topology';

/** Advances executions: starts them, sends their requests, records attempts and outcomes. */
@Injectable()
export class EngineConsumer extends HostedConsumer {
  private readonly engine: ExecutionEngine;

  constructor(
    @InjectMessaging() messaging: Messaging,
    @InjectConfig() private readonly config: StepRunnerConfig,
    secrets: SecretsService,
    @InjectOrm() orm: MikroORM,
    @Inject(SECRET_CIPHER) cipher: SecretCipher,
    metrics: MetricsRegistry,
  ) {
    super(messaging, {
      ...executionConsumerOptions(config, CONSUMERS.stepRunnerEngine, config.TRIGRUN_ENGINE_CONCURRENCY),
      fairness: engineFairness(config.TRIGRUN_ENGINE_CONCURRENCY, config.TRIGRUN_WORKSPACE_MAX_IN_FLIGHT),
    });
    this.engine = new ExecutionEngine({
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
      logger: { warn: (m, meta) => this.logger.warn(m, meta), debug: (m, meta) => this.logger.debug(m, meta) },
      connectionEpoch: connectionEpoch(messaging.nc),
    });
    metrics.register({
      name: 'trigrun_engine_cached_executions',
      help: 'Executions held in the engine memory of this replica: in flight only (parked and queued ones are not).',
      value: () => this.engine.cachedExecutions,
    });
    metrics.register({
      name: 'trigrun_engine_buffered_messages',
      help: 'Messages pulled but not started: waiting for a slot of their workspace (fair admission).',
      value: () => this.admissionStats?.buffered ?? 0,
    });
    metrics.register({
      name: 'trigrun_engine_handed_back_messages',
      help: 'Messages handed back to NATS since start because their workspace had more waiting than the step-runner buffers.',
      value: () => this.admissionStats?.handedBack ?? 0,
    });
    metrics.register({
      name: 'trigrun_engine_duplicate_deliveries',
      help: 'Deliveries of a message this replica already held (buffered or in flight), not started a second time.',
      value: () => this.admissionStats?.duplicates ?? 0,
    });
  }

  protected override prepare() {
    return declareStepRunnerTopology(this.messaging.jsm, topologyOf(this.config));
  }

  protected handle(msg: JsMsg, ctx: MessageContext): Promise<Disposition> {
    return this.engine.handle(msg, ctx);
  }

  /** A DriveExecution command (DriveConsumer): the same engine, so its in-progress rule covers both. */
  drive(identity: ExecutionIdentity, ctx: MessageContext): Promise<Disposition> {
    return this.engine.drive(identity, ctx);
  }
}
