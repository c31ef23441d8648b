import { parkedStepOf } from './execution.decider';
import { at, completed, DEADLINE, executionFailed, given, httpStep, parkedOn, queued, resumedBy, started, stepFailed, stepStarted, T0, token, webhookStep, workflow } from './testing';

/** Workflows, wait_for_webhook steps: parking on a token, resuming, timing out. given(past events) / when(command) / then(new events | ignore), from ./testing. */

// ================================================================= wait_for_webhook

describe('workflow decider: wait_for_webhook', () => {
  const step = webhookStep({ extract: { ref: '$.ref' }, extract_to_context: { status: '$.status' } });
  const after = httpStep({ id: 'after', url: 'https://api.example.com/done/{{context.ref}}' });
  const job = workflow([step, after]);
  const beginning = [queued(job), started()];
  const waiting = [...beginning, stepStarted(step, 0, null), parkedOn(step, at(600))];

  it('does not start without a parking token', () => {
    given(...beginning).when({ type: 'StartStep', now: T0 }).then('ignore');
  });

  it('starts and parks on the token, expiring after timeout_seconds', () => {
    given(...beginning).when({ type: 'StartStep', now: T0, token }).then([stepStarted(step, 0, null), parkedOn(step, at(600))]);
  });

  it('expires at the deadline when timeout_seconds is null (the rest of the workflow)', () => {
    const open = webhookStep({ timeout_seconds: null });
    given(queued(workflow([open])), started()).when({ type: 'StartStep', now: at(100), token }).then([stepStarted(open, 0, null), parkedOn(open, DEADLINE)]);
  });

  it('caps the expiry at the deadline', () => {
    const long = webhookStep({ timeout_seconds: 7000 });
    given(queued(workflow([long])), started()).when({ type: 'StartStep', now: at(1000), token }).then([stepStarted(long, 0, null), parkedOn(long, DEADLINE)]);
  });

  it('parks the execution until the step expires', () => {
    const { state, next } = given(...waiting);
    expect(next(at(1))).toEqual({ type: 'park', until: at(600) });
    expect(parkedStepOf(state)).toEqual({ stepId: 'callback', reason: 'webhook', tokenHash: token.hash, expiresAt: at(600) });
  });

  it('resumes on the right token: the payload becomes the step output and what it extracts from', () => {
    const payload = { ref: 'r-7', status: 'paid', extra: [1] };
    const events = given(...waiting)
      .when({ type: 'ResumeStep', tokenHash: token.hash, payload, now: at(30) })
      .then([resumedBy('callback', payload), completed('callback', payload, { ref: 'r-7', status: 'paid' }, { status: 'paid' })]);
    const { state, next } = given(...waiting, ...events);
    expect(parkedStepOf(state)).toBeNull();
    expect(next(at(30))).toEqual({ type: 'start_step', step: after, index: 1, persistContext: { status: 'paid' } });
    given(...waiting, ...events)
      .when({ type: 'StartStep', now: at(31) })
      .then([stepStarted(after, 1, { method: 'POST', url: 'https://api.example.com/done/r-7', headers: {} })]);
  });

  it('records a resume without a body as a null payload', () => {
    given(...waiting)
      .when({ type: 'ResumeStep', tokenHash: token.hash, payload: undefined, now: at(30) })
      .then([resumedBy('callback', null), completed('callback', null)]);
  });

  it('answers a second resume with already_completed', () => {
    const payload = { ref: 'r-7' };
    const done = [...waiting, resumedBy('callback', payload), completed('callback', payload, { ref: 'r-7' })];
    given(...done).when({ type: 'ResumeStep', tokenHash: token.hash, payload: { ref: 'again' }, now: at(31) }).then({ ignore: 'already_completed' });
  });

  it('answers a resume of an ended execution with already_completed', () => {
    const only = workflow([step]);
    const done = [queued(only), started(), stepStarted(step, 0, null), parkedOn(step, at(600)), resumedBy('callback', {}), completed('callback', {})];
    given(...done, { type: 'ExecutionSucceeded', data: { final_output: {} } })
      .when({ type: 'ResumeStep', tokenHash: token.hash, payload: {}, now: at(31) })
      .then({ ignore: 'already_completed' });
  });

  it('ignores a wrong token', () => {
    given(...waiting).when({ type: 'ResumeStep', tokenHash: 'hash-other', payload: {}, now: at(30) }).then('ignore');
  });

  it('ignores a resume at or after expires_at with code expired', () => {
    given(...waiting).when({ type: 'ResumeStep', tokenHash: token.hash, payload: {}, now: at(600) }).then({ ignore: 'expired' });
    given(...waiting).when({ type: 'ResumeStep', tokenHash: token.hash, payload: {}, now: at(601) }).then({ ignore: 'expired' });
  });

  it('ignores a Wake before the step expires with code not_due', () => {
    given(...waiting).when({ type: 'Wake', now: at(599) }).then({ ignore: 'not_due' });
  });

  it('fails the step as timed_out when it expires with on_timeout fail', () => {
    const message = 'step callback received no webhook before it timed out';
    const events = given(...waiting)
      .when({ type: 'Wake', now: at(600) })
      .then([
        { type: 'ExecutionResumed', data: { step_id: 'callback', via: 'timeout', payload: null } },
        stepFailed('callback', 'timed_out', 'step_timeout', message),
        executionFailed('step_timeout', message),
      ]);
    given(...waiting, ...events).when({ type: 'ResumeStep', tokenHash: token.hash, payload: {}, now: at(601) }).then('ignore');
  });

  it('completes the step with a null output when it expires with on_timeout continue', () => {
    const lenient = webhookStep({ on_timeout: 'continue', extract: { ref: '$.ref' } });
    const next = httpStep({ id: 'next', url: 'https://api.example.com/x' });
    const history = [queued(workflow([lenient, next])), started(), stepStarted(lenient, 0, null), parkedOn(lenient, at(600))];
    const events = given(...history)
      .when({ type: 'Wake', now: at(700) })
      .then([{ type: 'ExecutionResumed', data: { step_id: 'callback', via: 'timeout', payload: null } }, completed('callback', null)]);
    expect(given(...history, ...events).next(at(700))).toEqual({ type: 'start_step', step: next, index: 1, persistContext: null });
    given(...history, ...events).when({ type: 'ResumeStep', tokenHash: token.hash, payload: {}, now: at(701) }).then('ignore');
  });
});
