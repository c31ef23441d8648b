import { approvalStep, at, attempt, completed, DEADLINE, executionFailed, failedAttempt, given, httpStep, parkedOn, queued, recorded, started, stepFailed, stepStarted, T0, token, webhookStep, workflow, workflowTimeout } from './testing';

/** Workflows, the deadline: max_workflow_duration_seconds cuts steps, retries and waits. given(past events) / when(command) / then(new events | ignore), from ./testing. */

// ================================================================= deadline

describe('workflow decider: max_workflow_duration_seconds', () => {
  it('fails a parked execution with workflow_timeout when woken past the deadline', () => {
    const step = approvalStep({ timeout_seconds: null, message: 'ok?' });
    const history = [queued(workflow([step])), started(), stepStarted(step, 0, { message: 'ok?' }), parkedOn(step, DEADLINE, 'ok?')];
    expect(given(...history).next(at(7199))).toEqual({ type: 'park', until: DEADLINE });
    expect(given(...history).next(DEADLINE)).toEqual({ type: 'wake' });
    given(...history)
      .when({ type: 'Wake', now: DEADLINE })
      .then([stepFailed('review', 'timed_out', 'workflow_timeout', workflowTimeout(7200)), executionFailed('workflow_timeout', workflowTimeout(7200))]);
  });

  it('applies the deadline first when the step expires at the same moment', () => {
    const step = webhookStep({ timeout_seconds: null, on_timeout: 'continue' });
    const history = [queued(workflow([step])), started(), stepStarted(step, 0, null), parkedOn(step, DEADLINE)];
    given(...history)
      .when({ type: 'Wake', now: at(7300) })
      .then([stepFailed('callback', 'timed_out', 'workflow_timeout', workflowTimeout(7200)), executionFailed('workflow_timeout', workflowTimeout(7200))]);
  });

  it('defaults to 1800 s when the snapshot has no duration', () => {
    const step = webhookStep({ timeout_seconds: 3600 });
    const job = workflow([step], { max_workflow_duration_seconds: undefined });
    const events = given(queued(job), started()).when({ type: 'StartStep', now: T0, token }).then([stepStarted(step, 0, null), parkedOn(step, at(1800))]);
    const { next } = given(queued(job), started(), ...events);
    expect(next(at(1799))).toEqual({ type: 'park', until: at(1800) });
    expect(next(at(1800))).toEqual({ type: 'wake' });
    given(queued(job), started(), ...events)
      .when({ type: 'Wake', now: at(1800) })
      .then([stepFailed('callback', 'timed_out', 'workflow_timeout', workflowTimeout(1800)), executionFailed('workflow_timeout', workflowTimeout(1800))]);
  });

  it('asks for a wake past the deadline whatever the execution is doing', () => {
    const step = httpStep();
    const input = { method: 'POST', url: 'u', headers: {} };
    const base = [queued(workflow([step, webhookStep()])), started({ item_id: '42' })];
    expect(given(...base).next(DEADLINE)).toEqual({ type: 'wake' });
    expect(given(...base, stepStarted(step, 0, input)).next(DEADLINE)).toEqual({ type: 'wake' });
    expect(given(...base, stepStarted(step, 0, input), recorded('fetch', failedAttempt(1), at(7199.9))).next(at(7199.5))).toEqual({
      type: 'wait',
      until: at(7199.9),
    });
    expect(given(...base, stepStarted(step, 0, input), recorded('fetch', failedAttempt(1), at(7199.9))).next(DEADLINE)).toEqual({ type: 'wake' });
  });

  it('fails between steps with workflow_timeout and no step failure', () => {
    const step = httpStep();
    const history = [queued(workflow([step, webhookStep()])), started({ item_id: '42' }), stepStarted(step, 0, {}), recorded('fetch', attempt(1), null, {}), completed('fetch', {})];
    given(...history).when({ type: 'Wake', now: DEADLINE }).then([executionFailed('workflow_timeout', workflowTimeout(7200))]);
    given(...history).when({ type: 'StartStep', now: DEADLINE, token }).then([executionFailed('workflow_timeout', workflowTimeout(7200))]);
  });

  it('fails a step waiting for a retry when woken past the deadline', () => {
    const step = httpStep();
    given(queued(workflow([step])), started({ item_id: '42' }), stepStarted(step, 0, {}), recorded('fetch', failedAttempt(1), at(7199.9)))
      .when({ type: 'Wake', now: DEADLINE })
      .then([stepFailed('fetch', 'timed_out', 'workflow_timeout', workflowTimeout(7200)), executionFailed('workflow_timeout', workflowTimeout(7200))]);
  });

  it('ignores a Wake before the deadline when nothing is parked', () => {
    const step = httpStep();
    given(queued(workflow([step])), started({ item_id: '42' }), stepStarted(step, 0, {})).when({ type: 'Wake', now: at(10) }).then({ ignore: 'not_due' });
  });

  it('ignores a Wake of an ended execution', () => {
    const step = httpStep();
    const error = workflowTimeout(7200);
    given(queued(workflow([step])), started({ item_id: '42' }), executionFailed('workflow_timeout', error)).when({ type: 'Wake', now: at(9000) }).then('ignore');
  });
});
