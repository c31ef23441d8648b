import type {
  ApprovalDecision,
  AttemptRecord,
  ExecutionError,
  ExecutionEvent,
  ExecutionEventData,
  ExecutionTrigger,
  JobSnapshot,
  NewExecutionEvent,
  StepSpec,
  WithdrawalReason,
} from '@trigrun/execution-contracts';
import { isStepDriven } from '@trigrun/execution-contracts';
import { assertNever } from './retry';
import {
  type StepContext,
  type WorkflowAction,
  type WorkflowProgress,
  evolveProgress,
  finish,
  finishRequest,
  nextSend,
  nextWorkflowAction,
  recordAttempt,
  resumeStep,
  settle,
  startProgress,
  startRequestProgress,
  startStep,
  wake,
} from './workflow';

/**
 * The execution decider. Request jobs follow the machine below; step-driven jobs (`workflow`)
 * go from `queued` to `stepping`. Both keep a WorkflowProgress (workflow.ts): a request job is a
 * plan of one step, its request, so attempts, retries and sends follow one rule. The execution
 * of a request job:
 *
 *   (none) --QueueExecution--> queued --StartExecution--> running --RecordAttempt--> running (retry later)
 *                                 |                         |  \--RecordAttempt / FinishExecution--> succeeded | failed
 *                                 \-------FailExecution-----+------------------------------------> failed
 *
 * `decide` turns a command into new events (or an Ignore, for late and duplicate commands);
 * `evolve` folds events into state; `nextAction` tells the shell what the state asks for next.
 * No I/O, no clock: times and random values arrive inside the commands.
 */
export interface ExecutionIdentity {
  readonly executionId: string;
  readonly jobId: string;
  readonly workspaceId: string;
}

interface Known extends ExecutionIdentity {
  readonly job: JobSnapshot;
  readonly trigger: ExecutionTrigger;
  readonly queuedAt: string;
  /** The schedule slot this execution is for (schedule triggers); it starts no earlier. */
  readonly scheduledFor: string | null;
  readonly triggerInput: unknown;
}

export type ExecutionState =
  | { readonly status: 'initial' }
  | ({ readonly status: 'queued' } & Known)
  /**
   * A request job between its start and its end: `progress.step` is its request (rendered at the
   * start), with its attempts; `progress.failure` a start that could not render it.
   */
  | ({ readonly status: 'running'; readonly progress: WorkflowProgress } & Known)
  /** A step-driven execution between its start and its end (running or parked on a step). */
  | ({ readonly status: 'stepping'; readonly progress: WorkflowProgress } & Known)
  | ({
      readonly status: 'succeeded' | 'failed';
      readonly attempts: readonly AttemptRecord[];
      readonly error: ExecutionError | null;
      /** Step-driven executions: where the steps stood when it ended. */
      readonly progress?: WorkflowProgress;
    } & Known)
  /** Armed ahead of its slot, then taken back before the slot (ExecutionWithdrawn): it never ran. */
  | ({ readonly status: 'withdrawn' } & Known);

export const initialState = (): ExecutionState => ({ status: 'initial' });

export type ExecutionCommand =
  | {
      readonly type: 'QueueExecution';
      readonly identity: ExecutionIdentity;
      readonly job: JobSnapshot;
      readonly trigger: ExecutionTrigger;
      readonly scheduledFor: string | null;
      readonly replayOf: string | null;
      readonly triggerInput: unknown;
    }
  /**
   * `context`: step-driven kinds, the job's persisted context store at start (README, "The API": workflow runs).
   * `firstAttemptByStarter`: request kinds, recorded as `first_attempt_by: "starter"` on the event
   * for the shell's own use (the engine sends the first attempt from the delivery that started the
   * execution, docs/events.md); the decider records it and never reads it.
   */
  | {
      readonly type: 'StartExecution';
      readonly now: string;
      readonly uuid: string;
      readonly context?: Readonly<Record<string, string>>;
      readonly firstAttemptByStarter?: boolean;
    }
  /**
   * The result of one attempt, its response redacted by the shell (docs/secrets.md).
   * `responseBody`: http steps, the body as recorded and extracted (parsed JSON no deeper than
   * events keep, else text). `parsedBody`: request jobs, the whole body parsed as JSON (absent
   * when it is not JSON), which the response_output_template reads.
   */
  | {
      readonly type: 'RecordAttempt';
      readonly attempt: AttemptRecord;
      readonly now: string;
      readonly jitter: number;
      readonly responseBody?: unknown;
      readonly parsedBody?: unknown;
    }
  | { readonly type: 'FinishExecution'; readonly now?: string }
  | { readonly type: 'FailExecution'; readonly error: ExecutionError }
  /** Starts the next step. Parking steps need a fresh token, minted by the shell (only its hash and sealed form are recorded). */
  | { readonly type: 'StartStep'; readonly now: string; readonly token?: ParkToken }
  /** Writes the rest of a step's outcome when the shell stopped between the appends of one decision. */
  | { readonly type: 'SettleStep'; readonly now: string }
  /** A call to the resume URL of a parked wait_for_webhook step. */
  | { readonly type: 'ResumeStep'; readonly tokenHash: string; readonly payload: unknown; readonly now: string }
  /** A reviewer's decision on a parked approval step. */
  | { readonly type: 'DecideApproval'; readonly tokenHash: string; readonly decision: ApprovalDecision; readonly now: string }
  /** A durable timer fired: applies whichever timeout is due (the parked step's, or the workflow's). */
  | { readonly type: 'Wake'; readonly now: string }
  /** Takes back a run armed ahead of its slot, while the slot is still ahead (its job changed). */
  | { readonly type: 'WithdrawExecution'; readonly reason: WithdrawalReason; readonly now: string };

/** A parking token as the decider sees it: never the token itself. */
export interface ParkToken {
  readonly hash: string;
  readonly sealed: { readonly ciphertext: string; readonly key_version: number };
}

/** Why a command was ignored, for callers that answer differently (the public resume and approval endpoints). */
export type IgnoreCode = 'unknown_token' | 'expired' | 'already_completed' | 'already_decided' | 'not_due' | 'stale';

export interface Ignore {
  readonly ignore: true;
  readonly reason: string;
  readonly code?: IgnoreCode;
}
export type Decision = readonly NewExecutionEvent[] | Ignore;
export const isIgnore = (d: Decision): d is Ignore => !Array.isArray(d);
const ignore = (reason: string, code?: IgnoreCode): Ignore => ({ ignore: true, reason, ...(code ? { code } : {}) });
const event = <T extends keyof ExecutionEventData>(type: T, data: ExecutionEventData[T]) => ({ type, data }) as NewExecutionEvent;

export function decide(command: ExecutionCommand, state: ExecutionState): Decision {
  switch (command.type) {
    case 'QueueExecution':
      if (state.status !== 'initial') return ignore('execution already exists');
      return [
        event('ExecutionQueued', {
          job: command.job,
          trigger: command.trigger,
          scheduled_for: command.scheduledFor,
          replay_of: command.replayOf,
          trigger_input: command.triggerInput,
        }),
      ];
    case 'StartExecution': {
      if (state.status !== 'queued') return ignore(`cannot start an execution that is ${state.status}`, 'stale');
      const variables = { timestamp: command.now, uuid: command.uuid, execution_id: state.executionId };
      if (isStepDriven(state.job)) return [event('ExecutionStarted', { variables, context: { ...(command.context ?? {}) } })];
      const data = command.firstAttemptByStarter ? { variables, first_attempt_by: 'starter' as const } : { variables };
      // The request is rendered with the start: one that cannot be fails the execution at once.
      const { failure } = startRequestProgress(command.now, data, state.job);
      return failure ? [event('ExecutionStarted', data), event('ExecutionFailed', { error: failure })] : [event('ExecutionStarted', data)];
    }
    case 'RecordAttempt':
      if (state.status !== 'stepping' && state.status !== 'running') return ignore(`no attempt is expected while ${state.status}`);
      return recordAttempt(state.progress, stepContext(state), command, applyTo(state));
    case 'FinishExecution':
      if (state.status === 'stepping') return finish(state.progress, stepContext(state));
      // Closes an execution whose last attempt settled it (or whose start failed) but whose outcome
      // event was never written (the shell stopped between the two appends).
      if (state.status !== 'running') return ignore(`nothing to finish while ${state.status}`);
      return finishRequest(state.progress);
    case 'FailExecution':
      if (state.status === 'initial' || state.status === 'succeeded' || state.status === 'failed' || state.status === 'withdrawn') {
        return ignore(`cannot fail an execution that is ${state.status}`);
      }
      return [event('ExecutionFailed', { error: command.error })];
    case 'StartStep':
      if (state.status !== 'stepping') return ignore(`no step can start while ${state.status}`);
      return startStep(state.progress, stepContext(state), command.now, command.token);
    case 'SettleStep': {
      if (state.status !== 'stepping') return ignore(`nothing to settle while ${state.status}`);
      const events = settle(state.progress, stepContext(state));
      return events.length > 0 ? events : ignore('the step is not settled yet');
    }
    case 'ResumeStep':
    case 'DecideApproval': {
      if (state.status === 'initial' || state.status === 'queued' || state.status === 'running') return ignore('nothing is waiting', 'unknown_token');
      if (state.status !== 'stepping') return ignore(`the execution is ${state.status}`, command.type === 'ResumeStep' ? 'already_completed' : 'already_decided');
      const via =
        command.type === 'ResumeStep'
          ? ({ via: 'resume', payload: command.payload } as const)
          : ({ via: 'approval', decision: command.decision } as const);
      return resumeStep(state.progress, stepContext(state), { tokenHash: command.tokenHash, now: command.now, ...via }, applyTo(state));
    }
    case 'Wake':
      if (state.status !== 'stepping') return ignore(`nothing to wake while ${state.status}`, 'not_due');
      return wake(state.progress, stepContext(state), command.now, applyTo(state));
    case 'WithdrawExecution':
      // Once its slot is due the run belongs to the slot, as it would had it been queued only then.
      if (state.status !== 'queued') return ignore(`cannot withdraw an execution that is ${state.status}`, 'stale');
      if (!slotAhead(state, command.now)) return ignore('its slot is already due', 'stale');
      return [event('ExecutionWithdrawn', { reason: command.reason })];
    default:
      return assertNever(command);
  }
}

const stepsOf = (state: Known): readonly StepSpec[] => state.job.steps ?? [];

/** Whether the execution was armed ahead of its schedule slot and the slot is still to come at `now`. */
const slotAhead = (state: Known, now: string): boolean => state.scheduledFor !== null && Date.parse(state.scheduledFor) > Date.parse(now);

function stepContext(state: Known): StepContext {
  return {
    steps: stepsOf(state),
    triggerInput: state.triggerInput,
    outputTemplate: state.job.response_output_template,
  };
}

/** Folds events a decision is about to emit, so the rest of the decision sees their effect. */
const applyTo =
  (state: Known & { readonly progress: WorkflowProgress }) =>
  (events: readonly NewExecutionEvent[]): WorkflowProgress =>
    events.reduce((p, e) => evolveProgress(p, stepsOf(state), e), state.progress);

/** The parked step of a waiting execution, or null. */
export function parkedStepOf(state: ExecutionState): { stepId: string; reason: 'webhook' | 'approval'; tokenHash: string; expiresAt: string } | null {
  const step = state.status === 'stepping' ? state.progress.step : null;
  if (!step?.parked || step.spec.id === null) return null;
  return { stepId: step.spec.id, reason: step.parked!.reason, tokenHash: step.parked!.tokenHash, expiresAt: step.parked!.expiresAt };
}

/** The execution context of a step-driven execution ({} for request jobs). */
export const contextOf = (state: ExecutionState): Readonly<Record<string, unknown>> =>
  'progress' in state && state.progress ? state.progress.context : {};

export function evolve(state: ExecutionState, e: ExecutionEvent): ExecutionState {
  switch (e.type) {
    case 'ExecutionQueued':
      return {
        status: 'queued',
        executionId: e.execution_id,
        jobId: e.job_id,
        workspaceId: e.workspace_id,
        job: e.data.job,
        trigger: e.data.trigger,
        queuedAt: e.occurred_at,
        scheduledFor: e.data.scheduled_for,
        triggerInput: e.data.trigger_input ?? null,
      };
    case 'ExecutionStarted':
      if (state.status !== 'queued') return state;
      if (isStepDriven(state.job)) {
        return { ...state, status: 'stepping', progress: startProgress(e.occurred_at, e.data, state.job.max_workflow_duration_seconds) };
      }
      return { ...state, status: 'running', progress: startRequestProgress(e.occurred_at, e.data, state.job) };
    case 'StepStarted':
    case 'StepCompleted':
    case 'StepFailed':
    case 'ExecutionParked':
    case 'ExecutionResumed':
      if (state.status !== 'stepping') return state;
      return { ...state, progress: evolveProgress(state.progress, stepsOf(state), e) };
    case 'AttemptRecorded':
      if (state.status !== 'stepping' && state.status !== 'running') return state;
      return { ...state, progress: evolveProgress(state.progress, stepsOf(state), e) };
    case 'ExecutionSucceeded':
    case 'ExecutionFailed':
      if (state.status === 'initial') return state;
      return {
        ...state,
        status: e.type === 'ExecutionSucceeded' ? 'succeeded' : 'failed',
        attempts: 'attempts' in state ? state.attempts : state.status === 'running' ? (state.progress.step?.attempts ?? []) : [],
        error: e.type === 'ExecutionFailed' ? e.data.error : null,
      };
    case 'ExecutionWithdrawn':
      if (state.status !== 'queued') return state;
      return { ...state, status: 'withdrawn' };
    default:
      return assertNever(e);
  }
}

/**
 * What the state asks of the shell next. `send` is one attempt of an http step or of a request
 * job's request, rendered already: the shell sends it as it is.
 */
export type NextAction =
  | { readonly type: 'none' }
  | { readonly type: 'start' }
  | { readonly type: 'wait'; readonly until: string }
  | { readonly type: 'finish'; readonly persistContext?: Readonly<Record<string, string>> | null }
  | Exclude<WorkflowAction, { type: 'wait' | 'finish' }>;

export function nextAction(state: ExecutionState, now: string): NextAction {
  switch (state.status) {
    case 'stepping':
      return nextWorkflowAction(state.progress, stepsOf(state), now);
    case 'initial':
    case 'succeeded':
    case 'failed':
    case 'withdrawn':
      return { type: 'none' };
    case 'queued':
      // Armed ahead of its slot by the scheduler (lookahead): starts when the slot is due.
      if (slotAhead(state, now)) return { type: 'wait', until: state.scheduledFor! };
      return { type: 'start' };
    case 'running': {
      // A request job's one step ends with the execution: once settled, the outcome is due.
      const { progress } = state;
      if (progress.failure || !progress.step) return { type: 'finish' };
      const send = nextSend(progress, progress.step, now);
      return send === 'settled' ? { type: 'finish' } : send;
    }
    default:
      return assertNever(state);
  }
}
