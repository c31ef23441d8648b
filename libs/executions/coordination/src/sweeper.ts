import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { CONSUMERS, type DriveExecution, driveSubjects } from '@trigrun/execution-contracts';
import { nextAction } from '@trigrun/execution-domain';
import { type ExecutionStore, type LoadedExecution, type TopologyOptions, declareCommandStream } from '@trigrun/execution-store';

/**
 * The sweeper of last resort (docs/recovery.md). Every driver of an execution is a message that
 * stays unacked until its effect is durable, a timer row, or a slot release; the engine rules
 * keep it so. This finds what would still slip through (a broker that lost acknowledged state
 * in a crash, a bug): a non-terminal execution that has not moved for longer than its own next
 * action can take, and re-drives it with a DriveExecution command.
 */
export interface SweeperBounds {
  /** Silence allowed beyond what the next action may legitimately take (TRIGRUN_SWEEPER_STALL_MS). */
  readonly stallMs: number;
  /** The consumers' ack_wait: a driver that died is redelivered after this. */
  readonly ackWaitMs: number;
}

export interface SilentCandidate {
  readonly id: string;
  readonly jobId: string;
  readonly workspaceId: string;
}

/**
 * When the execution must have moved by if something drives it, or null when nothing is owed
 * here: ended, parked (a timer row fires it), or no history. Counted from its last event:
 *   send / the starter's send / an http step   last event + the request's timeout + ack_wait + stall
 *   wait (a retry's next_attempt_at, a run armed for its slot)   the due time + ack_wait + stall
 *   anything else (start, finish, a step to start, settle, wake)   last event + ack_wait + stall
 * A request sends progress acks while it runs, so ack_wait counts from its end, not its start.
 */
export function driveDeadline(loaded: LoadedExecution, now: Date, bounds: SweeperBounds): { at: number; why: string } | null {
  const last = loaded.events.at(-1);
  if (!last) return null;
  const lastAt = Date.parse(last.occurred_at);
  const slack = bounds.ackWaitMs + bounds.stallMs;
  const action = nextAction(loaded.state, now.toISOString());
  const since = `last event ${last.type} (position ${last.position}) at ${last.occurred_at}`;
  switch (action.type) {
    case 'none':
    case 'park':
      return null;
    case 'wait': {
      const due = Math.max(lastAt, Date.parse(action.until));
      return { at: due + slack, why: `${loaded.state.status}, due at ${action.until}, ${since}` };
    }
    case 'send': {
      const what = action.step.id === null ? 'its attempt' : `step ${action.step.id}`;
      return { at: lastAt + action.timeoutMs + slack, why: `running, ${what} not recorded, ${since}` };
    }
    default:
      return { at: lastAt + slack, why: `${loaded.state.status}, next: ${action.type}, ${since}` };
  }
}

export interface SweeperDeps {
  readonly store: Pick<ExecutionStore, 'load'>;
  /** Non-terminal, unparked executions silent since `before`, oldest first, after `cursor`. */
  readonly candidates: (before: Date, limit: number, cursor?: { updatedAt: Date; id: string }) => Promise<ReadonlyArray<SilentCandidate & { updatedAt: Date }>>;
  /** Publishes the command durably; false when a sweeper already issued it (same id, within the duplicate window). */
  readonly publish: (command: DriveExecution) => Promise<boolean>;
  readonly now: () => Date;
  readonly logger: { warn(message: string, meta?: object): void };
}

/**
 * One sweep per `sweep()` call: a page of candidates, each judged from its events. Safe on every
 * replica at once: a stall is re-driven by one command, whose id is the execution and the
 * position it stalled at, and the commands stream drops a second publish of it.
 */
export class ExecutionSweeper {
  private cursor?: { updatedAt: Date; id: string };
  private count = 0;

  constructor(
    private readonly deps: SweeperDeps,
    private readonly bounds: SweeperBounds,
    private readonly pageSize = 200,
  ) {}

  /** Re-drives issued by this replica since start (trigrun_sweeper_redrives_total). */
  get redrives(): number {
    return this.count;
  }

  /** Returns how many executions this sweep re-drove. */
  async sweep(): Promise<number> {
    const now = this.deps.now();
    // No candidate can be owed a move before this: every bound is at least ack_wait + stall.
    const before = new Date(now.getTime() - this.bounds.ackWaitMs - this.bounds.stallMs);
    const page = await this.deps.candidates(before, this.pageSize, this.cursor);
    const last = page.at(-1);
    this.cursor = page.length < this.pageSize || !last ? undefined : { updatedAt: last.updatedAt, id: last.id };
    let redriven = 0;
    for (const candidate of page) {
      if (await this.judge(candidate, now)) redriven++;
    }
    return redriven;
  }

  private async judge(candidate: SilentCandidate, now: Date): Promise<boolean> {
    const loaded = await this.deps.store.load(candidate.id);
    const deadline = driveDeadline(loaded, now, this.bounds);
    if (!deadline || now.getTime() <= deadline.at) return false;
    const reason = `${deadline.why}; nothing moved it by ${new Date(deadline.at).toISOString()}`;
    const issued = await this.deps.publish({
      type: 'DriveExecution',
      version: 1,
      execution_id: candidate.id,
      job_id: candidate.jobId,
      workspace_id: candidate.workspaceId,
      position: loaded.position,
      reason,
    });
    if (!issued) return false;
    this.count++;
    this.deps.logger.warn('execution re-driven by the sweeper: it had no pending driver', { execution_id: candidate.id, position: loaded.position, reason });
    return true;
  }
}

/** Issues a DriveExecution command; a repeat for the same stall (execution and position) is dropped by its id. */
export async function publishDrive(js: JetStreamClient, namespace: string, command: DriveExecution): Promise<boolean> {
  const ack = await js.publish(driveSubjects(namespace).forExecution(command.execution_id), JSON.stringify(command), {
    msgID: `${command.execution_id}:drive:${command.position}`,
  });
  return !ack.duplicate;
}

/** The DriveExecution command stream and the step-runner's durable consumer of it (rare by design). */
export async function declareDriveTopology(jsm: JetStreamManager, opts: TopologyOptions): Promise<void> {
  await declareCommandStream(jsm, opts, driveSubjects(opts.namespace), CONSUMERS.stepRunnerDrive);
}
