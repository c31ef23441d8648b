import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import type { MikroORM } from '@mikro-orm/postgresql';
import { CONSUMERS } from '@trigrun/execution-contracts';
import { ExecutionStore, executionConsumerOptions, topologyOf } from '@trigrun/execution-store';
import { JobsReaction, declareJobsTopology } from '@trigrun/jobs';
import type { Disposition, MessageContext, Messaging } from '@trigrun/messaging';
import { HostedConsumer, InjectConfig, InjectMessaging, InjectOrm } from '@trigrun/nest';
import type { ServiceConfig } from './config';

/**
 * The jobs reaction (libs/jobs JobsReaction): executions move their job — `last_run_at` on a
 * start, `completed` when a one-shot job's own run ends. Hosted here because the scheduler owns
 * the rest of a job's life after its definition: its slots, its runs, and now their outcome.
 */
@Injectable()
export class JobsReactionConsumer extends HostedConsumer {
  private readonly reaction: JobsReaction;

  constructor(
    @InjectMessaging() messaging: Messaging,
    @InjectOrm() orm: MikroORM,
    @InjectConfig() private readonly config: ServiceConfig,
  ) {
    // One batch at a time: a batch is one transaction over the jobs it touches.
    super(messaging, { ...executionConsumerOptions(config, CONSUMERS.schedulerJobs, 1), batchSize: 256 });
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

  protected override async prepare(): Promise<void> {
    const topology = topologyOf(this.config);
    await declareJobsTopology(this.messaging.jsm, topology);
  }

  protected handle(msg: JsMsg, ctx: MessageContext): Promise<Disposition> {
    return this.reaction.handle(msg, ctx.deliveryCount);
  }

  protected override handleBatch(deliveries: ReadonlyArray<{ msg: JsMsg; deliveryCount: number }>): Promise<Disposition[]> {
    return this.reaction.handleBatch(deliveries);
  }
}
