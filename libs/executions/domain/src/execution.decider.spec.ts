import type { AttemptRecord, JobSnapshot, NewExecutionEvent } from '@trigrun/execution-contracts';
import { type ExecutionCommand, nextAction } from './execution.decider';
import { T0, attempt, given } from './testing';

/** The request-job half of the decider, as given(past events) / when(command) / then(new events | ignore), from ./testing. */

const job: JobSnapshot = {
  name: 'ping',
  kind: 'one_time',
  request: { url: 'https://example.com/hook', method: 'POST', headers: {}, timeout_seconds: 30, success_statuses: [200] },
  retry_policy: { max_attempts: 3, retry_on_statuses: [503] },
};
const identity = { executionId: 'exec_1', jobId: 'job_1', workspaceId: 'ws_1' };

const queued: NewExecutionEvent = {
  type: 'ExecutionQueued',
  data: { job, trigger: 'manual', scheduled_for: null, replay_of: null, trigger_input: null },
};
const started: NewExecutionEvent = { type: 'ExecutionStarted', data: { variables: { timestamp: T0, uuid: 'u-1', execution_id: 'exec_1' } } };
const recorded = (a: AttemptRecord, next: string | null = null): NewExecutionEvent => ({
  type: 'AttemptRecorded',
  data: { step_id: null, attempt: a, next_attempt_at: next },
});

describe('execution decider', () => {
  it('queues a new execution', () => {
    given()
      .when({ type: 'QueueExecution', identity, job, trigger: 'manual', scheduledFor: null, replayOf: null, triggerInput: null })
      .then([queued]);
  });

  it('ignores queueing an execution twice', () => {
    given(queued).when({ type: 'QueueExecution', identity, job, trigger: 'manual', scheduledFor: null, replayOf: null, triggerInput: null }).then('ignore');
  });

  it('starts a queued execution, fixing its variables once', () => {
    given(queued).when({ type: 'StartExecution', now: T0, uuid: 'u-1' }).then([started]);
  });

  it('ignores a second start', () => {
    given(queued, started).when({ type: 'StartExecution', now: T0, uuid: 'u-2' }).then('ignore');
  });

  it('records a successful attempt and succeeds', () => {
    given(queued, started)
      .when({ type: 'RecordAttempt', attempt: attempt(1), now: T0, jitter: 0.5 })
      .then([recorded(attempt(1)), { type: 'ExecutionSucceeded', data: { final_output: null } }]);
  });

  it('schedules a retry after a retryable status, 250 ms × 2^n from now', () => {
    const failed = attempt(1, { status: 'HTTP_ERROR', statusCode: 503 });
    given(queued, started)
      .when({ type: 'RecordAttempt', attempt: failed, now: T0, jitter: 0.5 })
      .then([recorded(failed, '2026-03-15T10:00:00.500Z')]);
  });

  it('fails at once on a status the policy does not retry', () => {
    const failed = attempt(1, { status: 'HTTP_ERROR', statusCode: 404 });
    given(queued, started)
      .when({ type: 'RecordAttempt', attempt: failed, now: T0, jitter: 0 })
      .then([recorded(failed), { type: 'ExecutionFailed', data: { error: { code: 'http_error', message: 'attempt 1 answered HTTP 404' } } }]);
  });

  it('fails after the last allowed attempt', () => {
    const timeout = (n: number) => attempt(n, { status: 'TIMEOUT', statusCode: null });
    given(queued, started, recorded(timeout(1), T0), recorded(timeout(2), T0))
      .when({ type: 'RecordAttempt', attempt: timeout(3), now: T0, jitter: 0 })
      .then([recorded(timeout(3)), { type: 'ExecutionFailed', data: { error: { code: 'timeout', message: 'attempt 3 timed out' } } }]);
  });

  it('ignores a duplicate of an attempt already recorded (a redelivered request)', () => {
    given(queued, started, recorded(attempt(1))).when({ type: 'RecordAttempt', attempt: attempt(1), now: T0, jitter: 0 }).then('ignore');
  });

  it('ignores an attempt after the execution ended', () => {
    given(queued, started, recorded(attempt(1)), { type: 'ExecutionSucceeded', data: { final_output: null } })
      .when({ type: 'RecordAttempt', attempt: attempt(2), now: T0, jitter: 0 })
      .then('ignore');
  });

  it('finishes an execution whose outcome event was never written', () => {
    given(queued, started, recorded(attempt(1))).when({ type: 'FinishExecution' }).then([{ type: 'ExecutionSucceeded', data: { final_output: null } }]);
  });

  it('does not finish while a retry is pending', () => {
    given(queued, started, recorded(attempt(1, { status: 'TIMEOUT' }), T0)).when({ type: 'FinishExecution' }).then('ignore');
  });

  it('fails a running execution on request, but never an ended one', () => {
    const error = { code: 'internal', message: 'boom' };
    given(queued, started).when({ type: 'FailExecution', error }).then([{ type: 'ExecutionFailed', data: { error } }]);
    given(queued, started, { type: 'ExecutionFailed', data: { error } }).when({ type: 'FailExecution', error }).then('ignore');
  });

  describe('a run armed ahead of its slot', () => {
    const SLOT = '2026-03-15T10:00:30.000Z';
    const armed: NewExecutionEvent = { type: 'ExecutionQueued', data: { job, trigger: 'schedule', scheduled_for: SLOT, replay_of: null, trigger_input: null } };
    const withdraw = (now: string): ExecutionCommand => ({ type: 'WithdrawExecution', reason: 'job_paused', now });
    const withdrawn: NewExecutionEvent = { type: 'ExecutionWithdrawn', data: { reason: 'job_paused' } };

    it('is withdrawn while its slot is ahead', () => {
      given(armed).when(withdraw(T0)).then([withdrawn]);
    });

    it('belongs to its slot once the slot is due, started or not', () => {
      given(armed).when(withdraw(SLOT)).then('ignore');
      given(armed, started).when(withdraw(T0)).then('ignore');
      // A run queued at its slot (no lookahead) or by hand has nothing to withdraw.
      given(queued).when(withdraw(T0)).then('ignore');
    });

    it('never starts, fails or is withdrawn again once withdrawn', () => {
      const error = { code: 'internal', message: 'boom' };
      given(armed, withdrawn).when({ type: 'StartExecution', now: SLOT, uuid: 'u-1' }).then('ignore');
      given(armed, withdrawn).when({ type: 'FailExecution', error }).then('ignore');
      given(armed, withdrawn).when(withdraw(T0)).then('ignore');
    });

    it('waits for its slot, then starts; withdrawn, it asks for nothing', () => {
      expect(nextAction(given(armed).state, T0)).toEqual({ type: 'wait', until: SLOT });
      expect(nextAction(given(armed).state, SLOT)).toEqual({ type: 'start' });
      expect(nextAction(given(armed, withdrawn).state, T0)).toEqual({ type: 'none' });
      expect(given(armed, withdrawn, started).state.status).toBe('withdrawn');
    });
  });
});

describe('a request job is a plan of one step', () => {
  const templated: JobSnapshot = {
    ...job,
    request: { ...job.request!, url: 'https://example.com/hook/{{uuid}}', headers: { 'x-run': '{{execution_id}}' }, body: { at: '{{timestamp}}', n: 1 } },
    response_output_template: { id: '$.id', all: '$', run: '{{execution_id}}' },
  };
  const queuedTemplated: NewExecutionEvent = { ...queued, data: { ...(queued.data as object), job: templated } } as NewExecutionEvent;

  it('renders its request once, at the start, with the execution variables', () => {
    const action = nextAction(given(queuedTemplated, started).state, T0);
    expect(action).toMatchObject({
      type: 'send',
      attemptNumber: 1,
      timeoutMs: 30_000,
      step: { type: 'request', id: null },
      request: { url: 'https://example.com/hook/u-1', headers: { 'x-run': 'exec_1' }, body: { at: T0, n: 1 } },
    });
    // A retry sends what the start rendered.
    const retrying = given(queuedTemplated, started, recorded(attempt(1, { status: 'TIMEOUT' }), T0)).state;
    expect(nextAction(retrying, T0)).toMatchObject({ type: 'send', attemptNumber: 2, request: (action as { request: unknown }).request });
  });

  it('fails at its start with template_error when its request cannot be rendered, and repairs a start written alone', () => {
    const broken: NewExecutionEvent = { ...queued, data: { ...(queued.data as object), job: { ...job, request: { ...job.request!, url: 'https://example.com/{{nope}}' } } } } as NewExecutionEvent;
    const error = { code: 'template_error', message: 'unknown template variable "nope"' };
    given(broken).when({ type: 'StartExecution', now: T0, uuid: 'u-1' }).then([started, { type: 'ExecutionFailed', data: { error } }]);
    expect(nextAction(given(broken, started).state, T0)).toEqual({ type: 'finish' });
    given(broken, started).when({ type: 'FinishExecution' }).then([{ type: 'ExecutionFailed', data: { error } }]);
    given(broken, started).when({ type: 'RecordAttempt', attempt: attempt(1), now: T0, jitter: 0 }).then('ignore');
  });

  it('renders its output template from the parsed body of a successful attempt, which becomes final_output', () => {
    const output = { id: 7, all: { id: 7 }, run: 'exec_1' };
    given(queuedTemplated, started)
      .when({ type: 'RecordAttempt', attempt: attempt(1), now: T0, jitter: 0, parsedBody: { id: 7 } })
      .then([
        { type: 'AttemptRecorded', data: { step_id: null, attempt: attempt(1), next_attempt_at: null, output } },
        { type: 'ExecutionSucceeded', data: { final_output: output } },
      ]);
    // A body that is not JSON: every path reads null.
    const fromText = { id: null, all: null, run: 'exec_1' };
    given(queuedTemplated, started)
      .when({ type: 'RecordAttempt', attempt: attempt(1), now: T0, jitter: 0 })
      .then([
        { type: 'AttemptRecorded', data: { step_id: null, attempt: attempt(1), next_attempt_at: null, output: fromText } },
        { type: 'ExecutionSucceeded', data: { final_output: fromText } },
      ]);
    // A failed attempt renders nothing.
    const failed = attempt(1, { status: 'HTTP_ERROR', statusCode: 404 });
    given(queuedTemplated, started)
      .when({ type: 'RecordAttempt', attempt: failed, now: T0, jitter: 0, parsedBody: { id: 7 } })
      .then([recorded(failed), { type: 'ExecutionFailed', data: { error: { code: 'http_error', message: 'attempt 1 answered HTTP 404' } } }]);
  });

  it('keeps the output of the settling attempt for a repair of its outcome', () => {
    const withOutput: NewExecutionEvent = { type: 'AttemptRecorded', data: { step_id: null, attempt: attempt(1), next_attempt_at: null, output: { id: 7 } } };
    given(queuedTemplated, started, withOutput).when({ type: 'FinishExecution' }).then([{ type: 'ExecutionSucceeded', data: { final_output: { id: 7 } } }]);
  });
});

describe('a first attempt sent by the starter', () => {
  const byStarter: NewExecutionEvent = {
    type: 'ExecutionStarted',
    data: { variables: { timestamp: T0, uuid: 'u-1', execution_id: 'exec_1' }, first_attempt_by: 'starter' },
  };

  it('is recorded on the start when the shell asks for it', () => {
    given(queued).when({ type: 'StartExecution', now: T0, uuid: 'u-1', firstAttemptByStarter: true }).then([byStarter]);
  });

  it('is the business of the engine: the decider asks for the first attempt as for any start (the engine leaves it to the starter, engine.spec.ts)', () => {
    const state = given(queued, byStarter).state;
    expect(nextAction(state, T0)).toMatchObject({ type: 'send', attemptNumber: 1, request: job.request });
    expect(nextAction(state, T0)).toEqual(nextAction(given(queued, started).state, T0));
  });

  it('covers only the first attempt: retries and the outcome follow the attempt events as usual', () => {
    const retrying = given(queued, byStarter, recorded(attempt(1, { status: 'TIMEOUT' }), '2026-03-15T10:00:01.000Z')).state;
    expect(nextAction(retrying, T0)).toEqual({ type: 'wait', until: '2026-03-15T10:00:01.000Z' });
    expect(nextAction(retrying, '2026-03-15T10:00:01.000Z')).toMatchObject({ type: 'send', attemptNumber: 2 });
    expect(nextAction(given(queued, byStarter, recorded(attempt(1))).state, T0)).toEqual({ type: 'finish' });
  });
});

describe('nextAction', () => {
  it('walks an execution through start, send, wait and finish', () => {
    expect(nextAction(given(queued).state, T0)).toEqual({ type: 'start' });
    expect(nextAction(given(queued, started).state, T0)).toMatchObject({ type: 'send', attemptNumber: 1, request: job.request });
    const retrying = given(queued, started, recorded(attempt(1, { status: 'TIMEOUT' }), '2026-03-15T10:00:01.000Z')).state;
    expect(nextAction(retrying, T0)).toEqual({ type: 'wait', until: '2026-03-15T10:00:01.000Z' });
    expect(nextAction(retrying, '2026-03-15T10:00:01.000Z')).toMatchObject({ type: 'send', attemptNumber: 2 });
    expect(nextAction(given(queued, started, recorded(attempt(1))).state, T0)).toEqual({ type: 'finish' });
    expect(nextAction(given(queued, started, recorded(attempt(1)), { type: 'ExecutionSucceeded', data: { final_output: null } }).state, T0)).toEqual({
      type: 'none',
    });
  });
});
