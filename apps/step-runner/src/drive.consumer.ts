import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { CONSUMERS, InvalidCommandError, deadLetterSubjects, driveSubjects, parseDriveExecution } from '@trigrun/execution-contracts';
import { topologyOf } from '@trigrun/execution-store';
import { type Disposition, type MessageContext, type Messaging, term } from '@trigrun/messaging';
import { HostedConsumer, InjectConfig, InjectMessaging } from '@trigrun/nest';
import type { StepRunnerConfig } from './config';
import { EngineConsumer } from './engine.consumer';
import { declareStepRunnerTopology } from './topology';

/** Re-drives, on the same engine as the event deliveries: the sweeper's DriveExecution commands (docs/recovery.md). */
@Injectable()
export class DriveConsumer extends HostedConsumer {
  constructor(
    @InjectMessaging() messaging: Messaging,
    @InjectConfig() private readonly config: StepRunnerConfig,
    private readonly engine: EngineConsumer,
  ) {
    super(messaging, {
      stream: driveSubjects(config.TRIGRUN_NAMESPACE).stream,
      durable: CONSUMERS.stepRunnerDrive,
      // Re-drives are rare (the sweeper's metric should stay 0): a few at a time is plenty.
      concurrency: 16,
      ackWaitMs: config.TRIGRUN_ACK_WAIT_MS,
      shutdownGraceMs: config.TRIGRUN_SHUTDOWN_GRACE_MS,
      deadLetterSubject: deadLetterSubjects(config.TRIGRUN_NAMESPACE).forConsumer(CONSUMERS.stepRunnerDrive),
    });
  }

  // Idempotent; the engine consumer declares the same, and Nest may boot the two in either order.
  protected override prepare() {
    return declareStepRunnerTopology(this.messaging.jsm, topologyOf(this.config));
  }

  protected handle(msg: JsMsg, ctx: MessageContext): Promise<Disposition> {
    let command;
    try {
      command = parseDriveExecution(JSON.parse(new TextDecoder().decode(msg.data)));
    } catch (error) {
      if (error instanceof InvalidCommandError || error instanceof SyntaxError) return Promise.resolve(term(`unreadable DriveExecution at seq ${msg.seq}: ${error.message}`));
      throw error;
    }
    this.logger.warn('re-driving an execution', { execution_id: command.execution_id, position: command.position, reason: command.reason });
    return this.engine.drive({ executionId: command.execution_id, jobId: command.job_id, workspaceId: command.workspace_id }, ctx);
  }
}
