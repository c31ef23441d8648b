import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import type { MikroORM } from '@mikro-orm/postgresql';
import { CONSUMERS } from '@trigrun/execution-contracts';
import { declareTopology, executionConsumerOptions, topologyOf } from '@trigrun/execution-engine';
import { ExecutionProjector } from '@trigrun/execution-read-model';
import type { Disposition, MessageContext, Messaging } from '@trigrun/messaging';
import { HostedConsumer, InjectConfig, InjectMessaging, InjectOrm } from '@trigrun/nest';
import type { ApiGatewayConfig } from './config';

/** Projects execution events into the read model that GET /v1/executions serves. */
@Injectable()
export class ReadModelConsumer extends HostedConsumer {
  private readonly projector: ExecutionProjector;

  constructor(@InjectMessaging() messaging: Messaging, @InjectOrm() orm: MikroORM, @InjectConfig() private readonly config: ApiGatewayConfig) {
    // One batch at a time: a batch writes every execution it touches in one transaction.
    super(messaging, { ...executionConsumerOptions(config, CONSUMERS.apiGatewayReadModel, 1), batchSize: 256 });
    this.projector = new ExecutionProjector(orm);
  }

  protected override prepare() {
    return declareTopology(this.messaging.jsm, topologyOf(this.config));
  }

  protected handle(msg: JsMsg, ctx: MessageContext): Promise<Disposition> {
    return this.projector.handle(msg, ctx.deliveryCount);
  }

  protected override handleBatch(deliveries: ReadonlyArray<{ msg: JsMsg; deliveryCount: number }>): Promise<Disposition[]> {
    return this.projector.handleBatch(deliveries);
  }
}
