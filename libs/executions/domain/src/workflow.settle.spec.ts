import type { JobSnapshot } from '@trigrun/execution-contracts';
import { approvalStep, at, attempt, completed, decided, decision, executionFailed, failedAttempt, given, httpStep, parkedOn, queued, recorded, resumedBy, started, stepFailed, stepStarted, token, webhookStep, workflow } from './testing';

/** Workflows, repairs and the end: a decision cut short is settled from what was recorded; finishing renders final_output. given(past events) / when(command) / then(new events | ignore), from ./testing. */

// ================================================================= crash repair

describe('workflow decider: repairing a decision cut short ("settle")', () => {
  const http = httpStep({ extract: { id: '$.id' }, extract_to_context: { cursor: '$.next' } });
  const input = { method: 'POST', url: 'https://api.example.com/items/42', headers: {} };
  const output = { id: 'i-1', next: 'c-2' };

  it('completes an http step from its recorded output', () => {
    const history = [queued(workflow([http, webhookStep()])), started({ item_id: '42' }), stepStarted(http, 0, input), recorded('fetch', attempt(1), null, output)];
    expect(given(...history).next(at(2))).toEqual({ type: 'settle' });
    given(...history)
      .when({ type: 'SettleStep', now: at(2) })
      .then([completed('fetch', output, { id: 'i-1', cursor: 'c-2' }, { cursor: 'c-2' })]);
  });

  it('fails an http step from its recorded last failure', () => {
    const message = 'step fetch: attempt 1 answered HTTP 404';
    const history = [queued(workflow([http])), started({ item_id: '42' }), stepStarted(http, 0, input), recorded('fetch', failedAttempt(1, 404))];
    expect(given(...history).next(at(2))).toEqual({ type: 'settle' });
    given(...history)
      .when({ type: 'SettleStep', now: at(2) })
      .then([stepFailed('fetch', 'failed', 'http_error', message), executionFailed('http_error', message)]);
  });

  it('ignores a SettleStep while the step is not settled', () => {
    const history = [queued(workflow([http])), started({ item_id: '42' }), stepStarted(http, 0, input)];
    given(...history).when({ type: 'SettleStep', now: at(2) }).then('ignore');
    given(...history, recorded('fetch', failedAttempt(1), at(3))).when({ type: 'SettleStep', now: at(2) }).then('ignore');
    given(queued(workflow([http])), started({ item_id: '42' })).when({ type: 'SettleStep', now: at(2) }).then('ignore');
  });

  it('completes a resumed webhook step', () => {
    const step = webhookStep({ extract: { ref: '$.ref' } });
    const history = [queued(workflow([step])), started(), stepStarted(step, 0, null), parkedOn(step, at(600)), resumedBy('callback', { ref: 'r-1' })];
    expect(given(...history).next(at(40))).toEqual({ type: 'settle' });
    given(...history).when({ type: 'SettleStep', now: at(40) }).then([completed('callback', { ref: 'r-1' }, { ref: 'r-1' })]);
    given(...history).when({ type: 'ResumeStep', tokenHash: token.hash, payload: { ref: 'r-2' }, now: at(41) }).then({ ignore: 'already_completed' });
  });

  it('fails a rejected approval step', () => {
    const step = approvalStep({ message: 'ok?' });
    const no = decision({ decision: 'rejected', comment: null });
    const error = 'step review was rejected by alice';
    const history = [queued(workflow([step])), started(), stepStarted(step, 0, { message: 'ok?' }), parkedOn(step, at(3600), 'ok?'), decided('review', no)];
    expect(given(...history).next(at(70))).toEqual({ type: 'settle' });
    given(...history)
      .when({ type: 'SettleStep', now: at(70) })
      .then([stepFailed('review', 'rejected', 'approval_rejected', error), executionFailed('approval_rejected', error)]);
  });

  it('writes the execution failure after a lone StepFailed', () => {
    const message = 'step fetch: attempt 1 answered HTTP 404';
    const history = [
      queued(workflow([http, webhookStep()])),
      started({ item_id: '42' }),
      stepStarted(http, 0, input),
      recorded('fetch', failedAttempt(1, 404)),
      stepFailed('fetch', 'failed', 'http_error', message),
    ];
    expect(given(...history).next(at(2))).toEqual({ type: 'settle' });
    given(...history).when({ type: 'SettleStep', now: at(2) }).then([executionFailed('http_error', message)]);
    given(...history).when({ type: 'StartStep', now: at(2), token }).then('ignore');
  });

  it('parks a parking step whose StepStarted was written without its ExecutionParked', () => {
    const first = httpStep({ id: 'first', extract_to_context: { cursor: '$.next' } });
    const step = webhookStep();
    const history = [
      queued(workflow([first, step])),
      started({ item_id: '42' }),
      stepStarted(first, 0, input),
      recorded('first', attempt(1), null, output),
      completed('first', output, { cursor: 'c-2' }, { cursor: 'c-2' }),
      stepStarted(step, 1, null),
    ];
    expect(given(...history).next(at(5))).toEqual({ type: 'start_step', step, index: 1, persistContext: null });
    given(...history).when({ type: 'StartStep', now: at(5) }).then('ignore');
    given(...history).when({ type: 'StartStep', now: at(5), token }).then([parkedOn(step, at(605))]);
  });

  it('parks an approval step the same way, with its message', () => {
    const step = approvalStep({ message: 'ok {{context.item_id}}?' });
    const history = [queued(workflow([step])), started({ item_id: '42' }), stepStarted(step, 0, { message: 'ok 42?' })];
    expect(given(...history).next(at(5))).toEqual({ type: 'start_step', step, index: 0, persistContext: null });
    given(...history).when({ type: 'StartStep', now: at(5), token }).then([parkedOn(step, at(3605), 'ok 42?')]);
  });

  it('finishes an execution whose last step completed without the outcome being written', () => {
    const history = [queued(workflow([http])), started({ item_id: '42' }), stepStarted(http, 0, input), recorded('fetch', attempt(1), null, output), completed('fetch', output, { id: 'i-1', cursor: 'c-2' }, { cursor: 'c-2' })];
    expect(given(...history).next(at(2))).toEqual({ type: 'finish', persistContext: { cursor: 'c-2' } });
  });

  // The module promises that "the outcome never depends on where a crash fell": a step whose
  // outcome was recorded before the deadline (the attempt, the resume call answered `resumed: true`,
  // the reviewer's decision) must be settled as it would have been without the crash, not turned
  // into a workflow_timeout because the repair ran later.
  it('settles an outcome recorded before the deadline even when the repair runs after it', () => {
    const history = [queued(workflow([http])), started({ item_id: '42' }), stepStarted(http, 0, input), recorded('fetch', attempt(1), null, output)];
    expect(given(...history).next(at(7300))).toEqual({ type: 'settle' });
    given(...history)
      .when({ type: 'SettleStep', now: at(7300) })
      .then([completed('fetch', output, { id: 'i-1', cursor: 'c-2' }, { cursor: 'c-2' })]);
    const step = approvalStep({ message: 'ok?' });
    const yes = decision({ decided_at: at(7100) });
    const approved = [queued(workflow([step])), started(), stepStarted(step, 0, { message: 'ok?' }), parkedOn(step, at(3600), 'ok?'), decided('review', yes)];
    expect(given(...approved).next(at(7300))).toEqual({ type: 'settle' });
  });
});

// ================================================================= finish

describe('workflow decider: finishing', () => {
  const step = httpStep({ extract: { name: '$.name' } });
  const input = { method: 'POST', url: 'https://api.example.com/items/42', headers: {} };
  const output = { id: 'i-9', name: 'Ada' };
  const done = (job: JobSnapshot) => [
    queued(job),
    started({ item_id: '42' }),
    stepStarted(step, 0, input),
    recorded('fetch', attempt(1), null, output),
    completed('fetch', output, { name: 'Ada' }),
  ];

  it('succeeds with the final context as final_output when the job has no template', () => {
    const history = done(workflow([step]));
    expect(given(...history).next(at(2))).toEqual({ type: 'finish', persistContext: null });
    const events = given(...history)
      .when({ type: 'FinishExecution', now: at(2) })
      .then([{ type: 'ExecutionSucceeded', data: { final_output: { item_id: '42', name: 'Ada' } } }]);
    const { state, next } = given(...history, ...events);
    expect(state.status).toBe('succeeded');
    expect(next(at(3))).toEqual({ type: 'none' });
  });

  it('renders response_output_template from the last step output and the context', () => {
    const job = workflow([step], { response_output_template: { id: '$.id', who: '{{context.name}}', item: '{{context.item_id}}', missing: '$.nope' } });
    given(...done(job))
      .when({ type: 'FinishExecution', now: at(2) })
      .then([{ type: 'ExecutionSucceeded', data: { final_output: { id: 'i-9', who: 'Ada', item: '42', missing: null } } }]);
  });

  it('fails with template_error when the output template names a missing variable', () => {
    const job = workflow([step], { response_output_template: { who: '{{context.nobody}}' } });
    given(...done(job))
      .when({ type: 'FinishExecution', now: at(2) })
      .then([executionFailed('template_error', 'response_output_template: unknown template variable "context.nobody"')]);
  });

  it('does not finish while steps remain', () => {
    const job = workflow([step, webhookStep()]);
    given(...done(job)).when({ type: 'FinishExecution', now: at(2) }).then('ignore');
    given(queued(job), started({ item_id: '42' }), stepStarted(step, 0, input)).when({ type: 'FinishExecution', now: at(2) }).then('ignore');
  });

  it('ignores StartStep when no step is left', () => {
    given(...done(workflow([step]))).when({ type: 'StartStep', now: at(2), token }).then('ignore');
  });
});
