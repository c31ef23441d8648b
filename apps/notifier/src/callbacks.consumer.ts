import { Controller, Logger, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { JsMsg } from '@nats-io/jetstream';
import { CONSUMERS, callbackSubjects, deadLetterSubjects, parseDeliverCallback } from '@trigrun/execution-contracts';
import { CallbackSender, declareNotificationsTopology } from '@trigrun/notifications';
import { topologyOf } from '@trigrun/execution-store';
import { GuardedHttpClient } from '@trigrun/http-client';
import { type Disposition, type Messaging, term } from '@trigrun/messaging';
import { InjectConfig, InjectMessaging, JetStreamContext, JetStreamTransport, MessageErrorFilter } from '@trigrun/nest';
import type { ServiceConfig } from './config';

/** POSTs on_success_url / on_failure_url: carries out the DeliverCallback commands the step-runner issues. */
@Controller()
@UseFilters(MessageErrorFilter)
export class CallbacksConsumer {
  private readonly logger = new Logger(CONSUMERS.notifierCallbacks);
  private readonly sender: CallbackSender;

  constructor(@InjectMessaging() messaging: Messaging, @InjectConfig() config: ServiceConfig, transport: JetStreamTransport) {
    transport.defineConsumer({
      stream: callbackSubjects(config.TRIGRUN_NAMESPACE).stream,
      durable: CONSUMERS.notifierCallbacks,
      concurrency: 64,
      ackWaitMs: config.TRIGRUN_ACK_WAIT_MS,
      shutdownGraceMs: config.TRIGRUN_SHUTDOWN_GRACE_MS,
      deadLetterSubject: deadLetterSubjects(config.TRIGRUN_NAMESPACE).forConsumer(CONSUMERS.notifierCallbacks),
      prepare: () => declareNotificationsTopology(messaging.jsm, topologyOf(config)),
    });
    this.sender = new CallbackSender({
      http: new GuardedHttpClient({ allowlist: config.TRIGRUN_OUTBOUND_ALLOWLIST, userAgent: 'TrigRun/0.1' }),
      random: Math.random,
      logger: { warn: (m, meta) => this.logger.warn(m, meta) },
    });
  }

  @EventPattern(CONSUMERS.notifierCallbacks)
  async handle(@Payload() msg: JsMsg, @Ctx() ctx: JetStreamContext): Promise<Disposition> {
    let command;
    try {
      command = parseDeliverCallback(JSON.parse(new TextDecoder().decode(msg.data)));
    } catch (error) {
      return term(`unreadable command at seq ${msg.seq}: ${(error as Error).message}`);
    }
    return this.sender.deliver(command, ctx.deliveryCount, ctx.signal);
  }
}
