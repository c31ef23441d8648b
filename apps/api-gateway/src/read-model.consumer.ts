import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import type { MikroORM } from '@mikro-orm/postgresql';
import { CONSUMERS, executionSubjects } from '@trigrun/execution-contracts';
import { declareTopology } from '@trigrun/execution-engine';
import { ExecutionProjector } from '@trigrun/execution-read-model';
import type { Disposition, Messaging } from '@trigrun/messaging';
import { HostedConsumer, InjectConfig, InjectMessaging, InjectOrm } from '@trigrun/nest';
import type { ApiGatewayConfig } from './config';

/** Projects execution events into the read model that GET /v1/executions serves. */
@Injectable()
export class ReadModelConsumer extends HostedConsumer {
  private readonly projector: ExecutionProjector;

  constructor(@InjectMessaging() messaging: Messaging, @InjectOrm() orm: MikroORM, @InjectConfig() private readonly config: ApiGatewayConfig) {
    super(messaging, {
      stream: executionSubjects(config.TRIGRUN_NAMESPACE).stream,
      durable: CONSUMERS.apiGatewayReadModel,
      concurrency: 16,
      ackWaitMs: config.TRIGRUN_ACK_WAIT_MS,
      shutdownGraceMs: config.TRIGRUN_SHUTDOWN_GRACE_MS,
    });
    this.projector = new ExecutionProjector(orm);
  }

  protected override prepare() {
    return declareTopology(this.messaging.jsm, {
      namespace: this.config.TRIGRUN_NAMESPACE,
      replicas: this.config.TRIGRUN_JETSTREAM_REPLICAS,
      ackWaitMs: this.config.TRIGRUN_ACK_WAIT_MS,
    });
  }

  protected handle(msg: JsMsg): Promise<Disposition> {
    return this.projector.handle(msg);
  }
}
