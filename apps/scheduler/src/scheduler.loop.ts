import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ExecutionTimers, type TimerRow } from '@trigrun/execution-coordination';
import { ExecutionStore, topologyOf } from '@trigrun/execution-store';
import { ExecutionSweeper, publishDrive } from '@trigrun/execution-coordination';
import { silentExecutions } from '@trigrun/execution-read-model';
import type { Messaging } from '@trigrun/messaging';
import { InjectConfig, InjectMessaging, InjectOrm, MetricsRegistry } from '@trigrun/nest';
import { JobScheduler } from '@trigrun/scheduler';
import type { ServiceConfig } from './config';
import { PollingLoop } from './polling-loop';
import { declareDriveTopology } from '@trigrun/execution-coordination';
import { declareExecutionStreams } from '@trigrun/execution-store';

/** Execution timers claimed per tick. */
const TIMER_BATCH = 500;

/**
 * Two loops on the same poll interval: due schedule slots, and due execution timers (parked
 * steps' and workflows' deadlines). They are separate so that a slow batch of timers never
 * delays a job's firing. A third, slower one is the sweeper of last resort (docs/recovery.md).
 * A stop waits for the tick in progress of each.
 */
@Injectable()
export class SchedulerLoop implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('scheduler');
  private readonly store: ExecutionStore;
  private readonly scheduler: JobScheduler;
  private readonly timers: ExecutionTimers;
  private readonly loops: PollingLoop[];
  private readonly sweeper: ExecutionSweeper;

  constructor(
    @InjectOrm() orm: MikroORM,
    @InjectMessaging() private readonly messaging: Messaging,
    @InjectConfig() private readonly config: ServiceConfig,
    metrics: MetricsRegistry,
  ) {
    this.store = new ExecutionStore(messaging.js, messaging.jsm, config.TRIGRUN_NAMESPACE);
    const logger = { warn: (m: string, meta?: object) => this.logger.warn(m, meta), debug: (m: string, meta?: object) => this.logger.debug(m, meta) };
    this.scheduler = new JobScheduler(orm, this.store, { batchSize: config.TRIGRUN_SCHEDULER_BATCH, lookaheadMs: config.TRIGRUN_SCHEDULER_LOOKAHEAD_MS, now: () => new Date(), logger });
    this.timers = new ExecutionTimers(orm, { logger });
    this.sweeper = new ExecutionSweeper(
      {
        store: this.store,
        candidates: (before, limit, cursor) => silentExecutions(orm, before, limit, cursor),
        publish: (command) => publishDrive(messaging.js, config.TRIGRUN_NAMESPACE, command),
        now: () => new Date(),
        logger,
      },
      { stallMs: config.TRIGRUN_SWEEPER_STALL_MS, ackWaitMs: config.TRIGRUN_ACK_WAIT_MS },
    );
    metrics.register({
      name: 'trigrun_sweeper_redrives_total',
      help: 'Executions this scheduler re-drove because nothing drove them any more (docs/recovery.md): it should stay 0.',
      type: 'counter',
      value: () => this.sweeper.redrives,
    });
    const every = config.TRIGRUN_SCHEDULER_POLL_MS;
    this.loops = [
      new PollingLoop(every, () => this.fireSlots(), (error) => this.logger.error(`schedule tick failed: ${messageOf(error)}`)),
      new PollingLoop(every, () => this.fireTimers(), (error) => this.logger.error(`timer tick failed: ${messageOf(error)}`)),
    ];
    if (config.TRIGRUN_SWEEPER_INTERVAL_MS > 0) {
      this.loops.push(new PollingLoop(config.TRIGRUN_SWEEPER_INTERVAL_MS, () => this.sweep(), (error) => this.logger.error(`sweep failed: ${messageOf(error)}`)));
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    // The scheduler launches executions and publishes the sweeper's drive commands.
    await declareExecutionStreams(this.messaging.jsm, topologyOf(this.config));
    await declareDriveTopology(this.messaging.jsm, topologyOf(this.config));
    for (const loop of this.loops) loop.start();
    this.logger.log(`firing due slots and timers every ${this.config.TRIGRUN_SCHEDULER_POLL_MS} ms`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.loops.map((loop) => loop.stop()));
  }

  private async fireSlots(): Promise<void> {
    const started = Date.now();
    const fired = await this.scheduler.tick();
    if (fired > 0) this.logger.debug(`fired ${fired} slot(s) in ${Date.now() - started} ms`);
  }

  private async sweep(): Promise<void> {
    const redriven = await this.sweeper.sweep();
    if (redriven > 0) this.logger.warn(`the sweeper re-drove ${redriven} execution(s) that nothing drove any more`);
  }

  private async fireTimers(): Promise<void> {
    const started = Date.now();
    const fired = await this.timers.fireDue(new Date(), TIMER_BATCH, (t) => this.wake(t));
    if (fired > 0) this.logger.debug(`fired ${fired} timer(s) in ${Date.now() - started} ms`);
  }

  /** The decider applies whichever deadline is due, or ignores a wake that is early, late or repeated. */
  private async wake(t: TimerRow): Promise<void> {
    await this.store.execute(
      { executionId: t.execution_id, jobId: t.job_id, workspaceId: t.workspace_id },
      () => ({ type: 'Wake', now: new Date().toISOString() }),
      { now: () => new Date() },
    );
  }
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
