import { Controller, Logger, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { JsMsg } from '@nats-io/jetstream';
import { CONSUMERS, InvalidCommandError, deadLetterSubjects, driveSubjects, parseDriveExecution } from '@trigrun/execution-contracts';
import { ExecutionEngine } from '@trigrun/execution-engine';
import { topologyOf } from '@trigrun/execution-store';
import { declareStepRunnerTopology } from './topology';
import { type Disposition, type Messaging, term } from '@trigrun/messaging';
import { InjectConfig, InjectMessaging, JetStreamContext, JetStreamTransport, MessageErrorFilter } from '@trigrun/nest';
import type { StepRunnerConfig } from './config';

/** Re-drives, on the same engine as the event deliveries: the sweeper's DriveExecution commands (docs/recovery.md). */
@Controller()
@UseFilters(MessageErrorFilter)
export class DriveConsumer {
  private readonly logger = new Logger(CONSUMERS.stepRunnerDrive);

  constructor(
    @InjectMessaging() messaging: Messaging,
    @InjectConfig() config: StepRunnerConfig,
    private readonly engine: ExecutionEngine,
    transport: JetStreamTransport,
  ) {
    transport.defineConsumer({
      stream: driveSubjects(config.TRIGRUN_NAMESPACE).stream,
      durable: CONSUMERS.stepRunnerDrive,
      // Re-drives are rare (the sweeper's metric should stay 0): a few at a time is plenty.
      concurrency: 16,
      ackWaitMs: config.TRIGRUN_ACK_WAIT_MS,
      shutdownGraceMs: config.TRIGRUN_SHUTDOWN_GRACE_MS,
      deadLetterSubject: deadLetterSubjects(config.TRIGRUN_NAMESPACE).forConsumer(CONSUMERS.stepRunnerDrive),
      // Idempotent; the engine consumer declares the same, and either may start first.
      prepare: () => declareStepRunnerTopology(messaging.jsm, topologyOf(config)),
    });
  }

  @EventPattern(CONSUMERS.stepRunnerDrive)
  handle(@Payload() msg: JsMsg, @Ctx() ctx: JetStreamContext): Promise<Disposition> {
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
