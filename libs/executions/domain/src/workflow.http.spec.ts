import { contextOf, decide, isIgnore } from './execution.decider';
import { at, attempt, completed, executionFailed, failedAttempt, given, httpStep, parkedOn, queued, recorded, started, stepFailed, stepStarted, T0, token, triggerInput, webhookStep, workflow, workflowTimeout } from './testing';
import { MAX_RECORDED_OUTPUT_LENGTH } from './workflow';

/** Workflows, http steps: the start of a step-driven execution, rendering a step once, and its attempts. given(past events) / when(command) / then(new events | ignore), from ./testing. */

// ================================================================= start

describe('workflow decider: starting a step-driven execution', () => {
  const job = workflow([httpStep(), webhookStep()]);

  it('seeds the execution context from the job store passed to StartExecution', () => {
    given(queued(job))
      .when({ type: 'StartExecution', now: T0, uuid: 'u-1', context: { item_id: '42', name: 'acme' } })
      .then([started({ item_id: '42', name: 'acme' })]);
  });

  it('starts with an empty context when the store is empty', () => {
    given(queued(job)).when({ type: 'StartExecution', now: T0, uuid: 'u-1' }).then([started({})]);
  });

  it('folds ExecutionStarted into a stepping state whose next action is the first step', () => {
    const { state, next } = given(queued(job), started({ item_id: '42' }));
    expect(state.status).toBe('stepping');
    expect(contextOf(state)).toEqual({ item_id: '42' });
    expect(next(T0)).toEqual({ type: 'start_step', step: job.steps![0], index: 0, persistContext: null });
  });

  it('ignores a second start', () => {
    given(queued(job), started()).when({ type: 'StartExecution', now: at(1), uuid: 'u-2' }).then({ ignore: 'stale' });
  });

  it('ignores step commands before the execution has started', () => {
    given(queued(job)).when({ type: 'StartStep', now: T0 }).then('ignore');
    given(queued(job)).when({ type: 'Wake', now: T0 }).then('ignore');
    given(queued(job)).when({ type: 'ResumeStep', tokenHash: token.hash, payload: {}, now: T0 }).then({ ignore: 'unknown_token' });
  });
});

// ================================================================= templates

describe('workflow decider: http step templates', () => {
  it('renders context, trigger and execution variables once, into StepStarted.input', () => {
    const step = httpStep({
      url: 'https://api.example.com/items/{{context.item_id}}?src={{trigger.headers.x-source}}&page={{trigger.query.page}}',
      headers: { 'x-execution': '{{execution_id}}', authorization: 'Bearer secret://API_TOKEN', '{{context.item_id}}': 'name kept' },
      body: { a: 'first {{trigger.body.a}}', run: '{{uuid}} at {{timestamp}}', nested: ['{{context.name}}'] },
    });
    given(queued(workflow([step], { kind: 'webhook_trigger' }), triggerInput), started({ item_id: '42', name: 'acme' }))
      .when({ type: 'StartStep', now: T0 })
      .then([
        stepStarted(step, 0, {
          method: 'POST',
          url: 'https://api.example.com/items/42?src=shop&page=2',
          // Header names are never rendered; secret references stay unresolved in the record.
          headers: { 'x-execution': 'exec_1', authorization: 'Bearer secret://API_TOKEN', '{{context.item_id}}': 'name kept' },
          body: { a: 'first alpha', run: `u-1 at ${T0}`, nested: ['acme'] },
        }),
      ]);
  });

  it('keeps the JSON type of a string leaf that is exactly one template', () => {
    const step = httpStep({
      body: {
        count: '{{trigger.body.count}}',
        order: '{{ trigger.body.order }}',
        total: '{{context.total}}',
        label: 'n={{trigger.body.count}}',
        inline: 'order {{trigger.body.order}}',
        id: '{{execution_id}}',
      },
    });
    given(queued(workflow([step], { kind: 'webhook_trigger' }), triggerInput), started({ item_id: '42', total: 99.5 }))
      .when({ type: 'StartStep', now: T0 })
      .then([
        stepStarted(step, 0, {
          method: 'POST',
          url: 'https://api.example.com/items/42',
          headers: {},
          body: { count: 3, order: { id: 'o-1', total: 12.5 }, total: 99.5, label: 'n=3', inline: 'order {"id":"o-1","total":12.5}', id: 'exec_1' },
        }),
      ]);
  });

  it('renders a string body as text', () => {
    const step = httpStep({ body: 'item={{context.item_id}}&count={{trigger.body.count}}' });
    given(queued(workflow([step]), triggerInput), started({ item_id: '42' }))
      .when({ type: 'StartStep', now: T0 })
      .then([stepStarted(step, 0, { method: 'POST', url: 'https://api.example.com/items/42', headers: {}, body: 'item=42&count=3' })]);
  });

  it('leaves out the body of a step without one', () => {
    const step = httpStep({ method: 'GET' });
    given(queued(workflow([step])), started({ item_id: '42' }))
      .when({ type: 'StartStep', now: T0 })
      .then([stepStarted(step, 0, { method: 'GET', url: 'https://api.example.com/items/42', headers: {} })]);
  });

  it('fails the step and the execution with template_error naming a missing variable and the step', () => {
    const step = httpStep({ body: { id: '{{context.missing_key}}' } });
    const message = 'step fetch: unknown template variable "context.missing_key"';
    const events = given(queued(workflow([step, webhookStep()])), started({ item_id: '42' }))
      .when({ type: 'StartStep', now: T0 })
      .then([stepStarted(step, 0, null), stepFailed('fetch', 'failed', 'template_error', message), executionFailed('template_error', message)]);
    expect(message).toContain('context.missing_key');
    expect(message).toContain('fetch');
    const after = given(queued(workflow([step, webhookStep()])), started({ item_id: '42' }), ...events);
    expect(after.state.status).toBe('failed');
    expect(after.next(T0)).toEqual({ type: 'none' });
  });

  it('fails with template_error for a missing trigger variable (a scheduled run has no trigger input)', () => {
    const step = httpStep({ url: 'https://api.example.com/{{trigger.body.a}}' });
    const message = 'step fetch: unknown template variable "trigger.body.a"';
    given(queued(workflow([step])), started())
      .when({ type: 'StartStep', now: T0 })
      .then([stepStarted(step, 0, null), stepFailed('fetch', 'failed', 'template_error', message), executionFailed('template_error', message)]);
  });

  it('walks no prototype: {{context.constructor}} is a missing variable', () => {
    const step = httpStep({ url: 'https://api.example.com/{{context.constructor}}' });
    const message = 'step fetch: unknown template variable "context.constructor"';
    given(queued(workflow([step])), started())
      .when({ type: 'StartStep', now: T0 })
      .then([stepStarted(step, 0, null), stepFailed('fetch', 'failed', 'template_error', message), executionFailed('template_error', message)]);
  });

  it('renders once: every attempt sends the recorded input, and a second StartStep is ignored', () => {
    const step = httpStep({ body: { at: '{{timestamp}}' } });
    const input = { method: 'POST', url: 'https://api.example.com/items/42', headers: {}, body: { at: T0 } };
    const history = [queued(workflow([step])), started({ item_id: '42' }), stepStarted(step, 0, input)];
    given(...history).when({ type: 'StartStep', now: at(1) }).then('ignore');
    expect(given(...history).next(T0)).toEqual({ type: 'send', step, attemptNumber: 1, request: input, timeoutMs: 30_000 });
    const retrying = given(...history, recorded('fetch', failedAttempt(1), at(1)));
    expect(retrying.next(at(1))).toEqual({ type: 'send', step, attemptNumber: 2, request: input, timeoutMs: 30_000 });
  });

  it("cuts an attempt's timeout to what is left of the workflow", () => {
    const step = httpStep();
    const { next } = given(queued(workflow([step])), started({ item_id: '42' }), stepStarted(step, 0, { url: 'u' }));
    expect(next(at(7190))).toMatchObject({ type: 'send', timeoutMs: 10_000 });
  });
});

// ================================================================= http attempts

describe('workflow decider: http step attempts', () => {
  const step = httpStep({ extract: { order_id: '$.order.id' }, extract_to_context: { cursor: '$.next', total: '$.order.total', tags: '$.tags' } });
  const input = { method: 'POST', url: 'https://api.example.com/items/42', headers: {} };
  const job = workflow([step, webhookStep()]);
  const running = [queued(job), started({ item_id: '42' }), stepStarted(step, 0, input)];
  const body = { order: { id: 'o-1', total: 12.5 }, next: 'c-2', tags: ['a', 'b'] };

  it('records a success with the body as output and completes the step with what it extracted', () => {
    given(...running)
      .when({ type: 'RecordAttempt', attempt: attempt(1), now: at(1), jitter: 0.5, responseBody: body })
      .then([
        recorded('fetch', attempt(1), null, body),
        completed('fetch', body, { order_id: 'o-1', cursor: 'c-2', total: 12.5, tags: ['a', 'b'] }, { cursor: 'c-2', total: '12.5', tags: '["a","b"]' }),
      ]);
  });

  it('records a text body as it came', () => {
    const plain = httpStep();
    given(queued(workflow([plain])), started({ item_id: '42' }), stepStarted(plain, 0, input))
      .when({ type: 'RecordAttempt', attempt: attempt(1), now: at(1), jitter: 0, responseBody: 'pong' })
      .then([recorded('fetch', attempt(1), null, 'pong'), completed('fetch', 'pong')]);
  });

  it('keeps a body above MAX_RECORDED_OUTPUT_LENGTH out of the events, but extracts from all of it', () => {
    const big = { order: { id: 'o-big', total: 1 }, next: 'c-big', padding: 'x'.repeat(MAX_RECORDED_OUTPUT_LENGTH) };
    given(...running)
      .when({ type: 'RecordAttempt', attempt: attempt(1), now: at(1), jitter: 0, responseBody: big })
      .then([recorded('fetch', attempt(1), null, null), completed('fetch', null, { order_id: 'o-big', cursor: 'c-big', total: 1 }, { cursor: 'c-big', total: '1' })]);
  });

  it('decides on a 20,000-deep body without overflowing the stack (the store, not the decider, refuses what it cannot encode)', () => {
    // The shell hands over bodies made storable (deep ones as text); a value from anywhere else
    // must still not throw here, or the delivery would be retried and the request sent again.
    const deep = JSON.parse('['.repeat(20_000) + ']'.repeat(20_000)) as unknown;
    const result = given(...running).state;
    const events = decide({ type: 'RecordAttempt', attempt: attempt(1), now: at(1), jitter: 0, responseBody: deep }, result);
    expect(isIgnore(events) ? [] : events.map((e) => e.type)).toEqual(['AttemptRecorded', 'StepCompleted']);
  });

  it('schedules a retry after a retryable failure and waits for it', () => {
    const events = given(...running)
      .when({ type: 'RecordAttempt', attempt: failedAttempt(1), now: at(1), jitter: 0.5 })
      .then([recorded('fetch', failedAttempt(1), at(1.5))]);
    const { next } = given(...running, ...events);
    expect(next(at(1))).toEqual({ type: 'wait', until: at(1.5) });
    expect(next(at(1.5))).toMatchObject({ type: 'send', attemptNumber: 2 });
  });

  it('completes the step when a retry succeeds', () => {
    given(...running, recorded('fetch', failedAttempt(1), at(1.5)))
      .when({ type: 'RecordAttempt', attempt: attempt(2), now: at(2), jitter: 0, responseBody: { next: 'c-3' } })
      .then([recorded('fetch', attempt(2), null, { next: 'c-3' }), completed('fetch', { next: 'c-3' }, { cursor: 'c-3' }, { cursor: 'c-3' })]);
  });

  it('fails the step and the execution after the last allowed attempt', () => {
    const message = 'step fetch: attempt 3 answered HTTP 503';
    given(...running, recorded('fetch', failedAttempt(1), at(1.5)), recorded('fetch', failedAttempt(2), at(3)))
      .when({ type: 'RecordAttempt', attempt: failedAttempt(3), now: at(4), jitter: 0 })
      .then([recorded('fetch', failedAttempt(3)), stepFailed('fetch', 'failed', 'http_error', message), executionFailed('http_error', message)]);
  });

  it('fails at once on a status the step does not retry', () => {
    const message = 'step fetch: attempt 1 answered HTTP 404';
    given(...running)
      .when({ type: 'RecordAttempt', attempt: failedAttempt(1, 404), now: at(1), jitter: 0 })
      .then([recorded('fetch', failedAttempt(1, 404)), stepFailed('fetch', 'failed', 'http_error', message), executionFailed('http_error', message)]);
  });

  it("uses the step's own retry policy, not the job's", () => {
    const once = httpStep({ retry_policy: { max_attempts: 1, retry_on_statuses: [503] } });
    const message = 'step fetch: attempt 1 answered HTTP 503';
    given(queued(workflow([once])), started({ item_id: '42' }), stepStarted(once, 0, input))
      .when({ type: 'RecordAttempt', attempt: failedAttempt(1), now: at(1), jitter: 0 })
      .then([recorded('fetch', failedAttempt(1)), stepFailed('fetch', 'failed', 'http_error', message), executionFailed('http_error', message)]);
  });

  it('ignores an attempt with the wrong number, and a duplicate of a recorded one', () => {
    given(...running).when({ type: 'RecordAttempt', attempt: attempt(2), now: at(1), jitter: 0 }).then('ignore');
    given(...running, recorded('fetch', failedAttempt(1), at(1.5)))
      .when({ type: 'RecordAttempt', attempt: failedAttempt(1), now: at(1), jitter: 0 })
      .then('ignore');
    given(...running, recorded('fetch', attempt(1), null, body), completed('fetch', body))
      .when({ type: 'RecordAttempt', attempt: attempt(1), now: at(1), jitter: 0, responseBody: body })
      .then('ignore');
  });

  it('ignores an attempt while no http step runs', () => {
    given(queued(job), started({ item_id: '42' })).when({ type: 'RecordAttempt', attempt: attempt(1), now: at(1), jitter: 0 }).then('ignore');
    const waiting = [queued(workflow([webhookStep()])), started(), stepStarted(webhookStep(), 0, null), parkedOn(webhookStep(), at(600))];
    given(...waiting).when({ type: 'RecordAttempt', attempt: attempt(1), now: at(1), jitter: 0 }).then('ignore');
  });

  it('fails the step as timed_out and the execution with workflow_timeout when the attempt comes back after the deadline', () => {
    given(...running)
      .when({ type: 'RecordAttempt', attempt: attempt(1), now: at(7201), jitter: 0, responseBody: body })
      .then([
        recorded('fetch', attempt(1), null, body),
        stepFailed('fetch', 'timed_out', 'workflow_timeout', workflowTimeout(7200)),
        executionFailed('workflow_timeout', workflowTimeout(7200)),
      ]);
  });

  it('schedules no retry past the deadline: the failure settles the step', () => {
    const message = 'step fetch: attempt 1 answered HTTP 503';
    // 250 ms × 2^1 × (0.75 + 0.5 × 0.5) = 500 ms after 7199.8 s: past the 7200 s deadline.
    given(...running)
      .when({ type: 'RecordAttempt', attempt: failedAttempt(1), now: at(7199.8), jitter: 0.5 })
      .then([recorded('fetch', failedAttempt(1)), stepFailed('fetch', 'failed', 'http_error', message), executionFailed('http_error', message)]);
  });

  it('schedules a retry that falls just before the deadline', () => {
    given(...running)
      .when({ type: 'RecordAttempt', attempt: failedAttempt(1), now: at(7199.4), jitter: 0.5 })
      .then([recorded('fetch', failedAttempt(1), at(7199.9))]);
  });
});
