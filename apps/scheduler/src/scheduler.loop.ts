import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ExecutionStore, declareTopology, topologyOf } from '@trigrun/execution-engine';
import type { Messaging } from '@trigrun/messaging';
import { InjectConfig, InjectMessaging, InjectOrm } from '@trigrun/nest';
import { JobScheduler } from '@trigrun/scheduler';
import type { ServiceConfig } from './config';

/** Runs the scheduler's tick every poll interval; a stop waits for the tick in progress. */
@Injectable()
export class SchedulerLoop implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('scheduler');
  private readonly scheduler: JobScheduler;
  private running = false;
  private loop?: Promise<void>;

  constructor(
    @InjectOrm() orm: MikroORM,
    @InjectMessaging() private readonly messaging: Messaging,
    @InjectConfig() private readonly config: ServiceConfig,
  ) {
    this.scheduler = new JobScheduler(orm, new ExecutionStore(messaging.js, messaging.jsm, config.TRIGRUN_NAMESPACE), {
      batchSize: config.TRIGRUN_SCHEDULER_BATCH,
      now: () => new Date(),
      logger: { warn: (m, meta) => this.logger.warn(m, meta), debug: (m, meta) => this.logger.debug(m, meta) },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await declareTopology(this.messaging.jsm, topologyOf(this.config));
    this.running = true;
    this.loop = this.run();
    this.logger.log(`firing due slots every ${this.config.TRIGRUN_SCHEDULER_POLL_MS} ms`);
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = Date.now();
      try {
        const fired = await this.scheduler.tick();
        if (fired > 0) this.logger.debug(`fired ${fired} slot(s) in ${Date.now() - started} ms`);
      } catch (error) {
        this.logger.error(`tick failed: ${(error as Error).message}`);
      }
      const wait = this.config.TRIGRUN_SCHEDULER_POLL_MS - (Date.now() - started);
      if (wait > 0 && this.running) await new Promise((r) => setTimeout(r, wait));
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
