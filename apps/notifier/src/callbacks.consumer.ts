import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { CONSUMERS, callbackSubjects, deadLetterSubjects, parseDeliverCallback } from '@trigrun/execution-contracts';
import { CallbackSender } from '@trigrun/notifications';
import { topologyOf } from '@trigrun/execution-store';
import { GuardedHttpClient } from '@trigrun/http-client';
import { type Disposition, type MessageContext, type Messaging, term } from '@trigrun/messaging';
import { HostedConsumer, InjectConfig, InjectMessaging } from '@trigrun/nest';
import type { ServiceConfig } from './config';
import { declareNotificationsTopology } from '@trigrun/notifications';

/** POSTs on_success_url / on_failure_url: carries out the DeliverCallback commands the step-runner issues. */
@Injectable()
export class CallbacksConsumer extends HostedConsumer {
  private readonly sender: CallbackSender;

  constructor(@InjectMessaging() messaging: Messaging, @InjectConfig() private readonly config: ServiceConfig) {
    super(messaging, {
      stream: callbackSubjects(config.TRIGRUN_NAMESPACE).stream,
      durable: CONSUMERS.notifierCallbacks,
      concurrency: 64,
      ackWaitMs: config.TRIGRUN_ACK_WAIT_MS,
      shutdownGraceMs: config.TRIGRUN_SHUTDOWN_GRACE_MS,
      deadLetterSubject: deadLetterSubjects(config.TRIGRUN_NAMESPACE).forConsumer(CONSUMERS.notifierCallbacks),
    });
    this.sender = new CallbackSender({
      http: new GuardedHttpClient({ allowlist: config.TRIGRUN_OUTBOUND_ALLOWLIST, userAgent: 'TrigRun/0.1' }),
      random: Math.random,
      logger: { warn: (m, meta) => this.logger.warn(m, meta) },
    });
  }

  protected override prepare() {
    return declareNotificationsTopology(this.messaging.jsm, topologyOf(this.config));
  }

  protected async handle(msg: JsMsg, ctx: MessageContext): Promise<Disposition> {
    let command;
    try {
      command = parseDeliverCallback(JSON.parse(new TextDecoder().decode(msg.data)));
    } catch (error) {
      return term(`unreadable command at seq ${msg.seq}: ${(error as Error).message}`);
    }
    return this.sender.deliver(command, ctx.deliveryCount, ctx.signal);
  }
}
