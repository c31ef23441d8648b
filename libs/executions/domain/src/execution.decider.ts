import type {
  AttemptRecord,
  ExecutionError,
  ExecutionEvent,
  ExecutionEventData,
  ExecutionTrigger,
  JobSnapshot,
  NewExecutionEvent,
  RequestSpec,
  ExecutionVariables,
} from '@trigrun/execution-contracts';
import { assertNever, backoffMs, shouldRetry } from './retry';

/**
 * The execution of a request job as a decider:
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
}

export type ExecutionState =
  | { readonly status: 'initial' }
  | ({ readonly status: 'queued' } & Known)
  | ({
      readonly status: 'running';
      readonly startedAt: string;
      readonly variables: ExecutionVariables;
      readonly attempts: readonly AttemptRecord[];
      /** Set while a retry is pending; null when the last attempt settled the outcome or none ran yet. */
      readonly nextAttemptAt: string | null;
      /** The output of the last attempt, for final_output. */
      readonly output: unknown;
    } & Known)
  | ({ readonly status: 'succeeded' | 'failed'; readonly attempts: readonly AttemptRecord[]; readonly error: ExecutionError | null } & Known);

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
  | { readonly type: 'StartExecution'; readonly now: string; readonly uuid: string }
  | { readonly type: 'RecordAttempt'; readonly attempt: AttemptRecord; readonly now: string; readonly jitter: number; readonly output?: unknown }
  | { readonly type: 'FinishExecution' }
  | { readonly type: 'FailExecution'; readonly error: ExecutionError };

export interface Ignore {
  readonly ignore: true;
  readonly reason: string;
}
export type Decision = readonly NewExecutionEvent[] | Ignore;
export const isIgnore = (d: Decision): d is Ignore => !Array.isArray(d);
const ignore = (reason: string): Ignore => ({ ignore: true, reason });
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
    case 'StartExecution':
      if (state.status !== 'queued') return ignore(`cannot start an execution that is ${state.status}`);
      return [
        event('ExecutionStarted', { variables: { timestamp: command.now, uuid: command.uuid, execution_id: state.executionId } }),
      ];
    case 'RecordAttempt': {
      if (state.status !== 'running') return ignore(`no attempt is expected while ${state.status}`);
      const expected = state.attempts.length + 1;
      if (command.attempt.number !== expected) return ignore(`attempt ${command.attempt.number} is not the expected ${expected}`);
      if (state.nextAttemptAt === null && state.attempts.length > 0) return ignore('the outcome is already settled');
      const retry = shouldRetry(command.attempt, state.job.retry_policy);
      const nextAttemptAt = retry
        ? new Date(Date.parse(command.now) + backoffMs(command.attempt.number, command.jitter)).toISOString()
        : null;
      const output = command.attempt.status === 'SUCCESS' ? (command.output ?? null) : null;
      const recorded = event('AttemptRecorded', {
        step_id: null,
        attempt: command.attempt,
        next_attempt_at: nextAttemptAt,
        ...(output !== null ? { output } : {}),
      });
      if (retry) return [recorded];
      return [recorded, outcomeOf(command.attempt, output)];
    }
    case 'FinishExecution': {
      // Closes an execution whose last attempt settled it but whose outcome event was never written
      // (the shell stopped between the two appends).
      if (state.status !== 'running') return ignore(`nothing to finish while ${state.status}`);
      const last = state.attempts.at(-1);
      if (!last || state.nextAttemptAt !== null) return ignore('the outcome is not settled yet');
      return [outcomeOf(last, state.output)];
    }
    case 'FailExecution':
      if (state.status === 'initial' || state.status === 'succeeded' || state.status === 'failed') {
        return ignore(`cannot fail an execution that is ${state.status}`);
      }
      return [event('ExecutionFailed', { error: command.error })];
    default:
      return assertNever(command);
  }
}

function outcomeOf(attempt: AttemptRecord, output: unknown): NewExecutionEvent {
  if (attempt.status === 'SUCCESS') return event('ExecutionSucceeded', { final_output: output ?? null });
  return event('ExecutionFailed', { error: attemptError(attempt) });
}

export function attemptError(attempt: AttemptRecord): ExecutionError {
  switch (attempt.status) {
    case 'SUCCESS':
      return { code: 'none', message: 'the attempt succeeded' };
    case 'TIMEOUT':
      return { code: 'timeout', message: `attempt ${attempt.number} timed out` };
    case 'CONNECTION_ERROR':
      return { code: 'connection_error', message: attempt.errorMessage ?? `attempt ${attempt.number} could not connect` };
    case 'HTTP_ERROR':
      return { code: 'http_error', message: `attempt ${attempt.number} answered HTTP ${attempt.statusCode}` };
    case 'MATCH_FAILED':
      return { code: 'match_failed', message: attempt.errorMessage ?? 'the response did not match' };
    default:
      return assertNever(attempt.status);
  }
}

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
      };
    case 'ExecutionStarted':
      if (state.status !== 'queued') return state;
      return { ...state, status: 'running', startedAt: e.occurred_at, variables: e.data.variables, attempts: [], nextAttemptAt: null, output: null };
    case 'AttemptRecorded':
      if (state.status !== 'running') return state;
      return { ...state, attempts: [...state.attempts, e.data.attempt], nextAttemptAt: e.data.next_attempt_at, output: e.data.output ?? null };
    case 'ExecutionSucceeded':
    case 'ExecutionFailed':
      if (state.status === 'initial') return state;
      return {
        ...state,
        status: e.type === 'ExecutionSucceeded' ? 'succeeded' : 'failed',
        attempts: 'attempts' in state ? state.attempts : [],
        error: e.type === 'ExecutionFailed' ? e.data.error : null,
      };
    default:
      return assertNever(e);
  }
}

/** What the state asks of the shell next. */
export type NextAction =
  | { readonly type: 'none' }
  | { readonly type: 'start' }
  | { readonly type: 'wait'; readonly until: string }
  | {
      readonly type: 'send';
      readonly attemptNumber: number;
      readonly request: RequestSpec;
      readonly variables: ExecutionVariables;
      readonly outputTemplate?: unknown;
    }
  | { readonly type: 'finish' };

export function nextAction(state: ExecutionState, now: string): NextAction {
  switch (state.status) {
    case 'initial':
    case 'succeeded':
    case 'failed':
      return { type: 'none' };
    case 'queued':
      return { type: 'start' };
    case 'running': {
      if (state.attempts.length > 0 && state.nextAttemptAt === null) return { type: 'finish' };
      if (state.nextAttemptAt !== null && Date.parse(state.nextAttemptAt) > Date.parse(now)) {
        return { type: 'wait', until: state.nextAttemptAt };
      }
      return {
        type: 'send',
        attemptNumber: state.attempts.length + 1,
        request: state.job.request,
        variables: state.variables,
        outputTemplate: state.job.response_output_template,
      };
    }
    default:
      return assertNever(state);
  }
}
