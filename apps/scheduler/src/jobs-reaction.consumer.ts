import { Controller, Logger, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { MikroORM } from '@mikro-orm/postgresql';
import { PgPositionStore } from '@trigrun/database';
import { CONSUMERS } from '@trigrun/execution-contracts';
import { ExecutionStore, executionConsumerOptions, topologyOf } from '@trigrun/execution-store';
import { JobsReaction, declareJobsTopology } from '@trigrun/jobs';
import type { Disposition, Messaging } from '@trigrun/messaging';
import { type Delivery, InjectConfig, InjectMessaging, InjectOrm, JetStreamBatchContext, JetStreamTransport, MessageErrorFilter } from '@trigrun/nest';
import type { ServiceConfig } from './config';

/**
 * The jobs reaction (libs/jobs JobsReaction): executions move their job — `last_run_at` on a
 * start, `completed` when a one-shot job's own run ends. Hosted here because the scheduler owns
 * the rest of a job's life after its definition: its slots, its runs, and now their outcome.
 */
@Controller()
@UseFilters(MessageErrorFilter)
export class JobsReactionConsumer {
  private readonly logger = new Logger(CONSUMERS.schedulerJobs);
  private readonly reaction: JobsReaction;

  constructor(
    @InjectMessaging() messaging: Messaging,
    @InjectOrm() orm: MikroORM,
    @InjectConfig() config: ServiceConfig,
    transport: JetStreamTransport,
  ) {
    transport.defineConsumer({
      ...executionConsumerOptions(config, CONSUMERS.schedulerJobs, 1),
      batchSize: 512,
      // Every event of every execution, of which it acts on the starts and a few ends: read with a
      // position of its own (no ack per message), in batches that wait up to 50 ms, which nobody
      // waits on. One replica reads at a time.
      positioned: { store: new PgPositionStore(orm), maxWaitMs: 50 },
      prepare: () => declareJobsTopology(messaging.jsm, topologyOf(config)),
    });
    this.reaction = new JobsReaction(orm, new ExecutionStore(messaging.js, messaging.jsm, config.TRIGRUN_NAMESPACE), {
      onRefused: (event, reason) =>
        this.logger.error('an execution event could not be applied to its job: terminated', {
          execution_id: event.execution_id,
          job_id: event.job_id,
          event_type: event.type,
          position: event.position,
          reason,
        }),
    });
  }

  /** Batch mode (batchSize): the deliveries that arrived together, one disposition each. */
  @EventPattern(CONSUMERS.schedulerJobs)
  handleBatch(@Payload() deliveries: ReadonlyArray<Delivery>, @Ctx() _ctx: JetStreamBatchContext): Promise<Disposition[]> {
    return this.reaction.handleBatch(deliveries);
  }
}
