import { Controller, Logger, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { MikroORM } from '@mikro-orm/postgresql';
import { CONSUMERS } from '@trigrun/execution-contracts';
import { executionConsumerOptions, topologyOf } from '@trigrun/execution-store';
import { ExecutionProjector, declareReadModelTopology } from '@trigrun/execution-read-model';
import type { Disposition, Messaging } from '@trigrun/messaging';
import { type Delivery, InjectConfig, InjectMessaging, InjectOrm, JetStreamBatchContext, JetStreamTransport, MessageErrorFilter, MetricsRegistry } from '@trigrun/nest';
import type { ApiGatewayConfig } from './config';

/** Projects execution events into the read model that GET /v1/executions serves. */
@Controller()
@UseFilters(MessageErrorFilter)
export class ReadModelConsumer {
  private readonly logger = new Logger(CONSUMERS.apiGatewayReadModel);
  private readonly projector: ExecutionProjector;

  constructor(
    @InjectMessaging() messaging: Messaging,
    @InjectOrm() orm: MikroORM,
    @InjectConfig() config: ApiGatewayConfig,
    transport: JetStreamTransport,
    metrics: MetricsRegistry,
  ) {
    transport.defineConsumer({
      // One batch at a time: a batch writes every execution it touches in one transaction.
      ...executionConsumerOptions(config, CONSUMERS.apiGatewayReadModel, 1),
      batchSize: 256,
      prepare: () => declareReadModelTopology(messaging.jsm, topologyOf(config)),
    });
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

  /** Batch mode (batchSize): the deliveries that arrived together, one disposition each. */
  @EventPattern(CONSUMERS.apiGatewayReadModel)
  handleBatch(@Payload() deliveries: ReadonlyArray<Delivery>, @Ctx() _ctx: JetStreamBatchContext): Promise<Disposition[]> {
    return this.projector.handleBatch(deliveries);
  }
}
