import type { ApprovalDecision, ExecutionEvent } from '@trigrun/execution-contracts';
import { type ExecutionView, type WaitingPayloadOf, project, skipped, toApi, waitingPayload } from './execution.projection';
import { SEALED_TOKEN, attemptRecord, eventsOf, jobSnapshot, workflowSnapshot } from './testing/execution-events';

const ID = { executionId: 'exec_01KKRF0D803PD5AC4TSVZAH4F9', jobId: 'job_01KKRF0C8RYFT28KGKN94EQF75', workspaceId: 'ws_01KEKJ4HM0QCWAMWZ0FF3ZH0WW' };
const T0 = '2026-03-15T10:00:00.000Z';
const at = (plusMs: number) => new Date(Date.parse(T0) + plusMs).toISOString();
const e = eventsOf(ID);

/** Given a history, the view after folding it (null while no ExecutionQueued came first). */
const given = (...events: ExecutionEvent[]): ExecutionView | null => events.reduce<ExecutionView | null>((view, event) => project(view, event), null);
const stepsOf = (view: ExecutionView | null) => toApi(view!).step_executions;
const stepOf = (view: ExecutionView | null, stepId: string) => stepsOf(view).find((s) => s.step_id === stepId)!;

const STEP_FIELDS = ['step_id', 'type', 'status', 'started_at', 'finished_at', 'attempts', 'input', 'output', 'extracted', 'error'].sort();
const DECISION: ApprovalDecision = { decision: 'approved', comment: 'ship it', decided_by: 'ana@example.com', decided_at: at(9000) };
const WEBHOOK_EXPIRES = at(600_000);

/** A workflow up to (and including) `wait` parked: positions 1–7. */
const fetchedThenParked = () => [
  e.queued(T0, { job: workflowSnapshot('orders'), trigger: 'webhook', triggerInput: { body: { order: 7 } } }),
  e.started(2, at(10), { region: 'eu' }),
  e.stepStarted(3, at(10), { id: 'fetch', type: 'http', index: 0, input: { url: 'https://example.com/orders', method: 'POST' } }),
  e.attempt(4, at(400), attemptRecord(1, at(20), { status: 'HTTP_ERROR', statusCode: 503 }), at(700), 'fetch'),
  e.attempt(5, at(900), attemptRecord(2, at(710)), null, 'fetch'),
  e.stepCompleted(6, at(900), 'fetch', { order: { id: 'o-7' } }, { order_id: 'o-7' }),
  e.stepStarted(7, at(900), { id: 'wait', type: 'wait_for_webhook', index: 1 }),
  e.parked(8, at(900), { stepId: 'wait', reason: 'webhook', expiresAt: WEBHOOK_EXPIRES }),
];

describe('project: request jobs', () => {
  it('keeps attempts on the execution and has no steps', () => {
    const view = given(
      e.queued(T0, { job: jobSnapshot('ping', 'recurring'), trigger: 'schedule' }),
      e.started(2, at(5)),
      e.attempt(3, at(50), attemptRecord(1, at(5))),
      e.succeeded(4, at(60), { ok: true }),
    );
    expect(view).toMatchObject({ status: 'succeeded', attempts: [attemptRecord(1, at(5))], stepExecutions: [], context: null, waiting: null, durationMs: 55 });
    expect(toApi(view!)).toMatchObject({ step_executions: [], waiting_reason: null, waiting_payload: null, waiting_expires_at: null, final_output: { ok: true } });
  });

  it('applies nothing before the execution exists', () => {
    expect(given(e.started(2, at(5)))).toBeNull();
  });
});

describe('project: step-driven executions', () => {
  it('seeds every step of the job as pending, in order, with the step execution fields of docs/executions.md only', () => {
    const view = given(e.queued(T0, { job: workflowSnapshot('orders'), trigger: 'manual' }));
    const steps = stepsOf(view);
    expect(steps.map((s) => [s.step_id, s.type, s.status])).toEqual([
      ['fetch', 'http', 'pending'],
      ['wait', 'wait_for_webhook', 'pending'],
      ['review', 'approval', 'pending'],
      ['notify', 'http', 'pending'],
    ]);
    expect(steps[0]).toEqual({ step_id: 'fetch', type: 'http', status: 'pending', started_at: null, finished_at: null, attempts: [], input: null, output: null, extracted: null, error: null });
    for (const step of steps) expect(Object.keys(step).sort()).toEqual(STEP_FIELDS);
  });

  it('ExecutionStarted records the seeded context', () => {
    const view = given(e.queued(T0, { job: workflowSnapshot('orders'), trigger: 'manual' }), e.started(2, at(10), { region: 'eu' }));
    expect(view).toMatchObject({ status: 'running', startedAt: at(10), context: { region: 'eu' } });
  });

  it('StepStarted runs the step with its rendered input', () => {
    const view = given(...fetchedThenParked().slice(0, 3));
    expect(stepOf(view, 'fetch')).toMatchObject({ status: 'running', started_at: at(10), finished_at: null, input: { url: 'https://example.com/orders', method: 'POST' } });
    expect(stepOf(view, 'wait').status).toBe('pending');
    expect(view!.status).toBe('running');
  });

  it("AttemptRecorded with a step id appends to that step's attempts, not the execution's", () => {
    const view = given(...fetchedThenParked().slice(0, 5));
    expect(stepOf(view, 'fetch').attempts).toEqual([attemptRecord(1, at(20), { status: 'HTTP_ERROR', statusCode: 503 }), attemptRecord(2, at(710))]);
    expect(stepOf(view, 'fetch').status).toBe('running');
    expect(toApi(view!).attempts).toEqual([]);
  });

  it('StepCompleted settles the step with its output and extracted values, merged into the context', () => {
    const view = given(...fetchedThenParked().slice(0, 6));
    expect(stepOf(view, 'fetch')).toMatchObject({ status: 'succeeded', finished_at: at(900), output: { order: { id: 'o-7' } }, extracted: { order_id: 'o-7' }, error: null });
    expect(view!.context).toEqual({ region: 'eu', order_id: 'o-7' });
  });

  it('ExecutionParked makes the execution and the step wait, keeping the token only sealed', () => {
    const view = given(...fetchedThenParked());
    expect(view).toMatchObject({
      status: 'waiting',
      waiting: { reason: 'webhook', stepId: 'wait', message: null, tokenSealed: SEALED_TOKEN, expiresAt: WEBHOOK_EXPIRES },
    });
    expect(stepOf(view, 'wait')).toMatchObject({ status: 'waiting', started_at: at(900), finished_at: null });
    const api = toApi(view!);
    expect(api).toMatchObject({ status: 'waiting', waiting_reason: 'webhook', waiting_expires_at: WEBHOOK_EXPIRES, waiting_payload: { resume_url: null } });
    expect(JSON.stringify(api)).not.toContain(SEALED_TOKEN.ciphertext);
  });

  it('serves waiting_payload from the given builder, only while waiting', () => {
    const payloadOf = jest.fn<ReturnType<WaitingPayloadOf>, Parameters<WaitingPayloadOf>>((_id, waiting) =>
      waitingPayload(waiting, { publicUrl: 'https://trigrun.example.com', token: 'tok' }),
    );
    const parked = given(...fetchedThenParked())!;
    expect(toApi(parked, payloadOf).waiting_payload).toEqual({ resume_url: 'https://trigrun.example.com/v1/resume/tok' });
    expect(payloadOf).toHaveBeenCalledWith(ID.executionId, parked.waiting);

    payloadOf.mockClear();
    const resumed = project(parked, e.resumed(9, at(5000), { stepId: 'wait', via: 'resume', payload: { ok: 1 } }))!;
    expect(toApi(resumed, payloadOf)).toMatchObject({ waiting_reason: null, waiting_payload: null, waiting_expires_at: null });
    expect(payloadOf).not.toHaveBeenCalled();
  });

  it('ExecutionResumed (resume) runs again, clears the wait and records the payload as the step input', () => {
    const view = given(...fetchedThenParked(), e.resumed(9, at(5000), { stepId: 'wait', via: 'resume', payload: { tracking: 'T-1' } }));
    expect(view).toMatchObject({ status: 'running', waiting: null });
    expect(stepOf(view, 'wait')).toMatchObject({ status: 'running', input: { tracking: 'T-1' }, finished_at: null });
  });

  it('an approval parks with its message and resumes with the decision as its input', () => {
    const history = [
      ...fetchedThenParked(),
      e.resumed(9, at(5000), { stepId: 'wait', via: 'resume', payload: { tracking: 'T-1' } }),
      e.stepCompleted(10, at(5000), 'wait', { tracking: 'T-1' }),
      e.stepStarted(11, at(5000), { id: 'review', type: 'approval', index: 2, input: { message: 'Ship order o-7?' } }),
      e.parked(12, at(5000), { stepId: 'review', reason: 'approval', expiresAt: at(1_800_000), message: 'Ship order o-7?' }),
    ];
    const parked = given(...history);
    expect(stepOf(parked, 'review')).toMatchObject({ status: 'waiting', input: { message: 'Ship order o-7?' } });
    expect(toApi(parked!)).toMatchObject({
      status: 'waiting',
      waiting_reason: 'approval',
      waiting_expires_at: at(1_800_000),
      waiting_payload: { review_url: null, approve_url: null, reject_url: null, message: 'Ship order o-7?' },
    });

    const resumed = project(parked, e.resumed(13, at(9000), { stepId: 'review', via: 'approval', payload: null, decision: DECISION }));
    expect(resumed).toMatchObject({ status: 'running', waiting: null });
    expect(stepOf(resumed, 'review')).toMatchObject({ status: 'running', input: DECISION });
  });

  it('a rejected approval fails the step and the execution; steps never reached are skipped', () => {
    const view = given(
      ...fetchedThenParked(),
      e.resumed(9, at(5000), { stepId: 'wait', via: 'resume', payload: {} }),
      e.stepCompleted(10, at(5000), 'wait', {}),
      e.stepStarted(11, at(5000), { id: 'review', type: 'approval', index: 2, input: { message: 'm' } }),
      e.parked(12, at(5000), { stepId: 'review', reason: 'approval', expiresAt: at(1_800_000), message: 'm' }),
      e.resumed(13, at(9000), { stepId: 'review', via: 'approval', payload: null, decision: { ...DECISION, decision: 'rejected' } }),
      e.stepFailed(14, at(9000), 'review', 'rejected', { code: 'approval_rejected', message: 'rejected by ana@example.com' }),
      e.failed(15, at(9000), { code: 'approval_rejected', message: 'rejected by ana@example.com' }),
    );
    expect(view).toMatchObject({ status: 'failed', finishedAt: at(9000), durationMs: 8990, waiting: null, error: { code: 'approval_rejected' } });
    expect(stepsOf(view).map((s) => [s.step_id, s.status])).toEqual([
      ['fetch', 'succeeded'],
      ['wait', 'succeeded'],
      ['review', 'rejected'],
      ['notify', 'skipped'],
    ]);
    expect(stepOf(view, 'review')).toMatchObject({ finished_at: at(9000), error: { code: 'approval_rejected', message: 'rejected by ana@example.com' } });
    expect(stepOf(view, 'notify')).toMatchObject({ started_at: null, finished_at: null, error: null });
  });

  it('StepFailed records the status it names (timed_out) with its error', () => {
    const view = given(...fetchedThenParked(), e.resumed(9, at(600_000), { stepId: 'wait', via: 'timeout', payload: null }), e.stepFailed(10, at(600_000), 'wait', 'timed_out', { code: 'step_timeout', message: 'no call to the resume URL in 600 s' }));
    expect(stepOf(view, 'wait')).toMatchObject({ status: 'timed_out', finished_at: at(600_000), error: { code: 'step_timeout' }, input: null });
  });

  it('the workflow deadline while parked: StepFailed ends the wait at once, ExecutionFailed the execution', () => {
    const error = { code: 'workflow_timeout', message: 'the workflow did not finish within 1800 s (max_workflow_duration_seconds)' };
    const stepFailed = given(...fetchedThenParked(), e.stepFailed(9, at(1_800_010), 'wait', 'timed_out', error));
    expect(stepFailed).toMatchObject({ status: 'running', waiting: null });
    expect(toApi(stepFailed!)).toMatchObject({ waiting_reason: null, waiting_payload: null, waiting_expires_at: null });
    expect(stepOf(stepFailed, 'wait')).toMatchObject({ status: 'timed_out', finished_at: at(1_800_010), error });

    const failed = project(stepFailed, e.failed(10, at(1_800_010), error));
    expect(failed).toMatchObject({ status: 'failed', error });
    expect(stepsOf(failed).map((s) => [s.step_id, s.status])).toEqual([
      ['fetch', 'succeeded'],
      ['wait', 'timed_out'],
      ['review', 'skipped'],
      ['notify', 'skipped'],
    ]);
  });

  it('a failure recorded without the StepFailed still times the waiting step out and clears the wait', () => {
    const view = given(...fetchedThenParked(), e.failed(9, at(1_800_010), { code: 'workflow_timeout', message: 'the workflow ran longer than 1800 s' }));
    expect(view).toMatchObject({ status: 'failed', waiting: null });
    expect(toApi(view!)).toMatchObject({ waiting_reason: null, waiting_payload: null, waiting_expires_at: null });
    expect(stepsOf(view).map((s) => [s.step_id, s.status])).toEqual([
      ['fetch', 'succeeded'],
      ['wait', 'timed_out'],
      ['review', 'skipped'],
      ['notify', 'skipped'],
    ]);
    expect(stepOf(view, 'wait')).toMatchObject({ finished_at: at(1_800_010), error: { code: 'workflow_timeout' } });
  });

  it('a step still running when the execution fails by command takes its error as failed', () => {
    const view = given(...fetchedThenParked().slice(0, 3), e.failed(4, at(50), { code: 'cancelled', message: 'cancelled' }));
    expect(stepOf(view, 'fetch')).toMatchObject({ status: 'failed', finished_at: at(50), error: { code: 'cancelled' } });
  });

  it('ExecutionSucceeded skips the steps never reached and keeps the final output', () => {
    const twoSteps = workflowSnapshot('short', [
      { id: 'a', type: 'wait_for_webhook', timeout_seconds: 60, on_timeout: 'continue' },
      { id: 'b', type: 'approval', message: 'm', timeout_seconds: null, on_timeout: 'reject' },
    ]);
    const view = given(
      e.queued(T0, { job: twoSteps, trigger: 'manual' }),
      e.started(2, at(10), {}),
      e.stepStarted(3, at(10), { id: 'a', type: 'wait_for_webhook', index: 0 }),
      e.stepCompleted(4, at(20), 'a', null),
      e.succeeded(5, at(20), { done: true }),
    );
    expect(view).toMatchObject({ status: 'succeeded', finalOutput: { done: true }, context: {} });
    expect(stepsOf(view).map((s) => [s.step_id, s.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'skipped'],
    ]);
  });

  it('creates a step an event names that the view does not hold', () => {
    const noSeed = { ...workflowSnapshot('orders'), steps: undefined };
    const view = given(
      e.queued(T0, { job: noSeed, trigger: 'manual' }),
      e.started(2, at(10)),
      e.stepCompleted(3, at(20), 'x', { ok: true }, { k: 1 }),
      e.stepFailed(4, at(30), 'y', 'failed', { code: 'http_error', message: 'HTTP 500' }),
    );
    expect(stepsOf(view)).toEqual([
      { step_id: 'x', type: 'http', status: 'succeeded', started_at: null, finished_at: at(20), attempts: [], input: null, output: { ok: true }, extracted: { k: 1 }, error: null },
      { step_id: 'y', type: 'http', status: 'failed', started_at: null, finished_at: at(30), attempts: [], input: null, output: null, extracted: null, error: { code: 'http_error', message: 'HTTP 500' } },
    ]);
    // A seeded step that completes without its StepStarted is settled in place.
    const seeded = given(e.queued(T0, { job: workflowSnapshot('orders'), trigger: 'manual' }), e.started(2, at(10)), e.stepCompleted(3, at(20), 'wait', { a: 1 }));
    expect(stepsOf(seeded).map((s) => [s.step_id, s.status])).toEqual([
      ['fetch', 'pending'],
      ['wait', 'succeeded'],
      ['review', 'pending'],
      ['notify', 'pending'],
    ]);
  });
});

describe('waitingPayload', () => {
  const waiting = { stepId: 's', message: 'Ship?', tokenSealed: SEALED_TOKEN, expiresAt: T0 } as const;
  const link = { publicUrl: 'https://trigrun.example.com', token: 'exec_X.secret' };

  it('builds the resume URL of a webhook wait', () => {
    expect(waitingPayload({ ...waiting, reason: 'webhook' }, link)).toEqual({ resume_url: 'https://trigrun.example.com/v1/resume/exec_X.secret' });
  });

  it('builds the review, approve and reject URLs and the message of an approval', () => {
    expect(waitingPayload({ ...waiting, reason: 'approval' }, link)).toEqual({
      review_url: 'https://trigrun.example.com/v1/approvals/exec_X.secret',
      approve_url: 'https://trigrun.example.com/v1/approvals/exec_X.secret/approve',
      reject_url: 'https://trigrun.example.com/v1/approvals/exec_X.secret/reject',
      message: 'Ship?',
    });
  });

  it('keeps the shape with null URLs when there is no token to show', () => {
    expect(waitingPayload({ ...waiting, reason: 'webhook' }, null)).toEqual({ resume_url: null });
    expect(waitingPayload({ ...waiting, reason: 'approval' }, null)).toEqual({ review_url: null, approve_url: null, reject_url: null, message: 'Ship?' });
  });
});

describe('skipped: an event the projection could not apply', () => {
  it('keeps the view, moves the checkpoint past the event, and says which event is missing', () => {
    const view = given(...fetchedThenParked().slice(0, 7));
    const bad = fetchedThenParked()[7];
    const past = skipped(view!, bad, 'PostgreSQL refused a value of the row as malformed or out of range, SQLSTATE 22008');
    expect(past).toEqual({
      ...view,
      position: 8,
      projectionError: {
        code: 'projection_failed',
        message: expect.stringContaining('ExecutionParked at position 8 could not be applied to the read model (PostgreSQL refused'),
        event_type: 'ExecutionParked',
        position: 8,
        skipped_events: 1,
      },
    });
    expect(toApi(past).projection_error).toEqual(past.projectionError);
  });

  it('counts every skipped event and keeps the error through later events', () => {
    const view = given(...fetchedThenParked().slice(0, 7));
    const twice = skipped(skipped(view!, fetchedThenParked()[7], 'a'), { ...e.succeeded(9, at(1000)) }, 'b');
    expect(twice.projectionError).toMatchObject({ event_type: 'ExecutionSucceeded', position: 9, skipped_events: 2 });
    const after = project(twice, e.failed(10, at(2000), { code: 'x', message: 'y' }));
    expect(after).toMatchObject({ status: 'failed', position: 10, projectionError: { skipped_events: 2 } });
  });

  it('serves projection_error as null while every event applied', () => {
    expect(toApi(given(...fetchedThenParked())!).projection_error).toBeNull();
  });
});
