import type { ApprovalDecision } from '@trigrun/execution-contracts';
import { parkedStepOf } from './execution.decider';
import { approvalStep, at, completed, decided, decision, executionFailed, given, httpStep, parkedOn, queued, started, stepFailed, stepStarted, T0, token, triggerInput, webhookStep, workflow } from './testing';

/** Workflows, approval steps: parking for a reviewer, decisions, timing out. given(past events) / when(command) / then(new events | ignore), from ./testing. */

// ================================================================= approval

describe('workflow decider: approval', () => {
  const step = approvalStep({ extract: { note: '$.comment' }, extract_to_context: { approver: '$.decided_by' } });
  const job = workflow([step, httpStep({ id: 'ship', url: 'https://api.example.com/ship/{{context.note}}' })], { kind: 'webhook_trigger' });
  const beginning = [queued(job, triggerInput), started({ order_id: 'o-1' })];
  const message = 'Ship order o-1 for Ada?';
  const waiting = [...beginning, stepStarted(step, 0, { message }), parkedOn(step, at(3600), message)];

  it('renders the message into StepStarted.input and ExecutionParked.message', () => {
    given(...beginning).when({ type: 'StartStep', now: T0, token }).then([stepStarted(step, 0, { message }), parkedOn(step, at(3600), message)]);
  });

  it('does not start without a parking token', () => {
    given(...beginning).when({ type: 'StartStep', now: T0 }).then('ignore');
  });

  it('fails with template_error when the message names a missing variable', () => {
    const bad = approvalStep({ message: 'Ship {{context.nope}}?' });
    const error = 'step review: unknown template variable "context.nope"';
    given(queued(workflow([bad])), started())
      .when({ type: 'StartStep', now: T0, token })
      .then([stepStarted(bad, 0, null), stepFailed('review', 'failed', 'template_error', error), executionFailed('template_error', error)]);
  });

  it('parks until the step expires', () => {
    const { state, next } = given(...waiting);
    expect(next(at(1))).toEqual({ type: 'park', until: at(3600) });
    expect(parkedStepOf(state)).toMatchObject({ reason: 'approval', expiresAt: at(3600) });
  });

  it('goes on when approved: the decision is the step output and what it extracts from', () => {
    const d = decision();
    const events = given(...waiting)
      .when({ type: 'DecideApproval', tokenHash: token.hash, decision: d, now: at(60) })
      .then([decided('review', d), completed('review', d, { note: 'looks good', approver: 'alice' }, { approver: 'alice' })]);
    const { next } = given(...waiting, ...events);
    expect(next(at(60))).toMatchObject({ type: 'start_step', index: 1, persistContext: { approver: 'alice' } });
  });

  it('fails the step as rejected and the execution with approval_rejected', () => {
    const d = decision({ decision: 'rejected', comment: 'wrong address' });
    const error = 'step review was rejected by alice: wrong address';
    given(...waiting)
      .when({ type: 'DecideApproval', tokenHash: token.hash, decision: d, now: at(60) })
      .then([decided('review', d), stepFailed('review', 'rejected', 'approval_rejected', error), executionFailed('approval_rejected', error)]);
  });

  it('answers a second decision with already_decided, after an approval and after a rejection', () => {
    const yes = decision();
    const no = decision({ decision: 'rejected', comment: null, decided_by: null });
    given(...waiting, decided('review', yes), completed('review', yes, { note: 'looks good', approver: 'alice' }, { approver: 'alice' }))
      .when({ type: 'DecideApproval', tokenHash: token.hash, decision: no, now: at(61) })
      .then({ ignore: 'already_decided' });
    const rejected = [
      ...waiting,
      decided('review', no),
      stepFailed('review', 'rejected', 'approval_rejected', 'step review was rejected'),
      executionFailed('approval_rejected', 'step review was rejected'),
    ];
    given(...rejected).when({ type: 'DecideApproval', tokenHash: token.hash, decision: yes, now: at(61) }).then({ ignore: 'already_decided' });
  });

  it('ignores a wrong token and a decision after expiry', () => {
    given(...waiting).when({ type: 'DecideApproval', tokenHash: 'hash-other', decision: decision(), now: at(60) }).then('ignore');
    given(...waiting).when({ type: 'DecideApproval', tokenHash: token.hash, decision: decision(), now: at(3600) }).then({ ignore: 'expired' });
  });

  it('refuses a token of the other kind: a decision for a webhook wait, a resume of an approval', () => {
    const hook = webhookStep();
    const hookWaiting = [queued(workflow([hook])), started(), stepStarted(hook, 0, null), parkedOn(hook, at(600))];
    given(...hookWaiting).when({ type: 'DecideApproval', tokenHash: token.hash, decision: decision(), now: at(60) }).then({ ignore: 'unknown_token' });
    given(...waiting).when({ type: 'ResumeStep', tokenHash: token.hash, payload: { decision: 'approved' }, now: at(60) }).then({ ignore: 'unknown_token' });
  });

  it('ignores a Wake before the step expires', () => {
    given(...waiting).when({ type: 'Wake', now: at(3599) }).then({ ignore: 'not_due' });
  });

  it('rejects on timeout by default: the step is timed_out and the execution fails with approval_rejected', () => {
    const byTimeout: ApprovalDecision = { decision: 'rejected', comment: null, decided_by: 'timeout', decided_at: at(3600) };
    const error = 'step review was not decided before it timed out (on_timeout: reject)';
    given(...waiting)
      .when({ type: 'Wake', now: at(3600) })
      .then([decided('review', byTimeout, 'timeout'), stepFailed('review', 'timed_out', 'approval_rejected', error), executionFailed('approval_rejected', error)]);
  });

  it('approves on timeout with on_timeout approve', () => {
    const lenient = approvalStep({ on_timeout: 'approve', timeout_seconds: 60, extract: { note: '$.comment', by: '$.decided_by' } });
    const history = [queued(workflow([lenient]), triggerInput), started({ order_id: 'o-1' }), stepStarted(lenient, 0, { message }), parkedOn(lenient, at(60), message)];
    const byTimeout: ApprovalDecision = { decision: 'approved', comment: null, decided_by: 'timeout', decided_at: at(61) };
    const events = given(...history)
      .when({ type: 'Wake', now: at(61) })
      .then([decided('review', byTimeout, 'timeout'), completed('review', byTimeout, { note: null, by: 'timeout' })]);
    expect(given(...history, ...events).next(at(61))).toEqual({ type: 'finish', persistContext: null });
    given(...history, ...events).when({ type: 'DecideApproval', tokenHash: token.hash, decision: decision(), now: at(62) }).then({ ignore: 'already_decided' });
  });
});
