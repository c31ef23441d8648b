import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { CONSUMERS } from '@trigrun/execution-contracts';
import { CallbackSender, ExecutionStore, declareTopology, decodeEvent, executionConsumerOptions, topologyOf } from '@trigrun/execution-engine';
import { GuardedHttpClient } from '@trigrun/http-client';
import { type Disposition, type MessageContext, type Messaging, term } from '@trigrun/messaging';
import { HostedConsumer, InjectConfig, InjectMessaging } from '@trigrun/nest';
import type { ServiceConfig } from './config';

/** POSTs on_success_url / on_failure_url once an execution ends. */
@Injectable()
export class CallbacksConsumer extends HostedConsumer {
  private readonly sender: CallbackSender;

  constructor(@InjectMessaging() messaging: Messaging, @InjectConfig() private readonly config: ServiceConfig) {
    super(messaging, executionConsumerOptions(config, CONSUMERS.notifierCallbacks, 64));
    this.sender = new CallbackSender({
      store: new ExecutionStore(messaging.js, messaging.jsm, config.TRIGRUN_NAMESPACE),
      http: new GuardedHttpClient({ allowlist: config.TRIGRUN_OUTBOUND_ALLOWLIST, userAgent: 'TrigRun/0.1' }),
      random: Math.random,
      logger: { warn: (m, meta) => this.logger.warn(m, meta) },
    });
  }

  protected override prepare() {
    return declareTopology(this.messaging.jsm, topologyOf(this.config));
  }

  protected async handle(msg: JsMsg, ctx: MessageContext): Promise<Disposition> {
    let event;
    try {
      event = decodeEvent(msg.data);
    } catch (error) {
      return term(`unreadable event at seq ${msg.seq}: ${(error as Error).message}`);
    }
    return this.sender.handle(event, msg.info.deliveryCount, ctx.signal);
  }
}
