import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import type { MikroORM } from '@mikro-orm/postgresql';
import { CONSUMERS } from '@trigrun/execution-contracts';
import { executionConsumerOptions, topologyOf } from '@trigrun/execution-store';
import { ExecutionProjector } from '@trigrun/execution-read-model';
import type { Disposition, MessageContext, Messaging } from '@trigrun/messaging';
import { HostedConsumer, InjectConfig, InjectMessaging, InjectOrm, MetricsRegistry } from '@trigrun/nest';
import type { ApiGatewayConfig } from './config';
import { declareReadModelTopology } from '@trigrun/execution-read-model';

/** Projects execution events into the read model that GET /v1/executions serves. */
@Injectable()
export class ReadModelConsumer extends HostedConsumer {
  private readonly projector: ExecutionProjector;

  constructor(
    @InjectMessaging() messaging: Messaging,
    @InjectOrm() orm: MikroORM,
    @InjectConfig() private readonly config: ApiGatewayConfig,
    metrics: MetricsRegistry,
  ) {
    // One batch at a time: a batch writes every execution it touches in one transaction.
    super(messaging, { ...executionConsumerOptions(config, CONSUMERS.apiGatewayReadModel, 1), batchSize: 256 });
    this.projector = new ExecutionProjector(orm, {
      // The execution id, event and SQLSTATE only: the values are the execution's data.
      onFailure: (f) =>
        this.logger.error('an event could not be applied to the read model: skipped, see the row\'s projection_error', {
          execution_id: f.executionId,
          event_type: f.eventType,
          position: f.position,
          seq: f.seq,
          reason: f.reason,
        }),
    });
    metrics.register({
      name: 'trigrun_projection_failures_total',
      help: 'Execution events the read model could not apply and skipped (each shows on its row as projection_error).',
      type: 'counter',
      value: () => this.projector.failures,
    });
  }

  protected override prepare() {
    return declareReadModelTopology(this.messaging.jsm, topologyOf(this.config));
  }

  protected handle(msg: JsMsg, ctx: MessageContext): Promise<Disposition> {
    return this.projector.handle(msg, ctx.deliveryCount);
  }

  protected override handleBatch(deliveries: ReadonlyArray<{ msg: JsMsg; deliveryCount: number }>): Promise<Disposition[]> {
    return this.projector.handleBatch(deliveries);
  }
}
