import type { JobSnapshot, NewExecutionEvent } from '@trigrun/execution-contracts';
import { contextOf, parkedStepOf } from './execution.decider';
import { at, attempt, decision, given, queued, retry, T0, token, variables } from './testing';

/** Request jobs seen from the step commands: a plan of one step that no step command reaches. given(past events) / when(command) / then(new events | ignore), from ./testing. */

// ================================================================= request jobs

describe('workflow decider: request jobs are unaffected', () => {
  const job: JobSnapshot = {
    name: 'ping',
    kind: 'one_time',
    request: { url: 'https://example.com/hook', method: 'POST', headers: {}, timeout_seconds: 30, success_statuses: [200] },
    retry_policy: retry,
  };
  const history: NewExecutionEvent[] = [queued(job), { type: 'ExecutionStarted', data: { variables } }];

  it('starts without a context', () => {
    given(queued(job)).when({ type: 'StartExecution', now: T0, uuid: 'u-1', context: { a: 'b' } }).then([{ type: 'ExecutionStarted', data: { variables } }]);
    expect(given(...history).state.status).toBe('running');
    expect(contextOf(given(...history).state)).toEqual({});
  });

  it('ignores the step commands', () => {
    given(...history).when({ type: 'Wake', now: at(9999) }).then({ ignore: 'not_due' });
    given(...history).when({ type: 'ResumeStep', tokenHash: token.hash, payload: {}, now: at(1) }).then({ ignore: 'unknown_token' });
    given(...history).when({ type: 'DecideApproval', tokenHash: token.hash, decision: decision(), now: at(1) }).then({ ignore: 'unknown_token' });
    given(...history).when({ type: 'StartStep', now: at(1), token }).then('ignore');
    given(...history).when({ type: 'SettleStep', now: at(1) }).then('ignore');
  });

  it('still records attempts without a step id', () => {
    const templated: JobSnapshot = { ...job, response_output_template: { ok: '$.ok' } };
    given(queued(templated), { type: 'ExecutionStarted', data: { variables } })
      .when({ type: 'RecordAttempt', attempt: attempt(1), now: at(1), jitter: 0, parsedBody: { ok: true } })
      .then([
        { type: 'AttemptRecorded', data: { step_id: null, attempt: attempt(1), next_attempt_at: null, output: { ok: true } } },
        { type: 'ExecutionSucceeded', data: { final_output: { ok: true } } },
      ]);
    expect(given(...history).next(at(1))).toMatchObject({ type: 'send', attemptNumber: 1 });
    expect(parkedStepOf(given(...history).state)).toBeNull();
  });
});
