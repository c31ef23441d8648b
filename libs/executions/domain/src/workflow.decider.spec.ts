import type {
  ApprovalDecision,
  ApprovalStepSpec,
  AttemptRecord,
  ExecutionEvent,
  HttpStepSpec,
  JobSnapshot,
  NewExecutionEvent,
  StepSpec,
  WaitForWebhookStepSpec,
} from '@trigrun/execution-contracts';
import {
  type ExecutionCommand,
  type ExecutionState,
  type IgnoreCode,
  type ParkToken,
  contextOf,
  decide,
  evolve,
  initialState,
  isIgnore,
  nextAction,
  parkedStepOf,
} from './execution.decider';
import { MAX_RECORDED_OUTPUT_LENGTH } from './workflow';

/**
 * The step-driven half of the execution decider (SPEC §3, §4, §7), as given(past events) /
 * when(command) / then(new events | ignore). Every event of a history occurs at T0, so a
 * workflow's deadline is T0 + max_workflow_duration_seconds; commands carry their own `now`.
 */

const T0 = '2026-03-15T10:00:00.000Z';
/** T0 + `seconds`. */
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const variables = { timestamp: T0, uuid: 'u-1', execution_id: 'exec_1' };
const retry = { max_attempts: 3, retry_on_statuses: [503] };
const token: ParkToken = { hash: 'hash-1', sealed: { ciphertext: 'sealed-1', key_version: 1 } };

// ---------------------------------------------------------------- fixtures

const httpStep = (over: Partial<HttpStepSpec> = {}): HttpStepSpec => ({
  id: 'fetch',
  type: 'http',
  url: 'https://api.example.com/items/{{context.item_id}}',
  method: 'POST',
  headers: {},
  timeout_seconds: 30,
  success_statuses: [200],
  retry_policy: retry,
  ...over,
});
const webhookStep = (over: Partial<WaitForWebhookStepSpec> = {}): WaitForWebhookStepSpec => ({
  id: 'callback',
  type: 'wait_for_webhook',
  timeout_seconds: 600,
  on_timeout: 'fail',
  ...over,
});
const approvalStep = (over: Partial<ApprovalStepSpec> = {}): ApprovalStepSpec => ({
  id: 'review',
  type: 'approval',
  message: 'Ship order {{context.order_id}} for {{trigger.body.customer}}?',
  timeout_seconds: 3600,
  on_timeout: 'reject',
  ...over,
});
const workflow = (steps: StepSpec[], over: Partial<JobSnapshot> = {}): JobSnapshot => ({
  name: 'flow',
  kind: 'workflow',
  steps,
  retry_policy: retry,
  max_workflow_duration_seconds: 7200,
  ...over,
});
const DEADLINE = at(7200);

const triggerInput = {
  method: 'POST',
  headers: { 'x-source': 'shop' },
  query: { page: '2' },
  body: { a: 'alpha', count: 3, customer: 'Ada', order: { id: 'o-1', total: 12.5 } },
  content_type: 'application/json',
  received_at: T0,
  source_ip: '203.0.113.9',
};

// ---------------------------------------------------------------- events

const queued = (job: JobSnapshot, trigger_input: unknown = null): NewExecutionEvent => ({
  type: 'ExecutionQueued',
  data: { job, trigger: trigger_input === null ? 'schedule' : 'webhook', scheduled_for: null, replay_of: null, trigger_input },
});
const started = (context: Record<string, unknown> = {}): NewExecutionEvent => ({ type: 'ExecutionStarted', data: { variables, context } });
const stepStarted = (step: StepSpec, index: number, input: unknown): NewExecutionEvent => ({
  type: 'StepStarted',
  data: { step_id: step.id, type: step.type, index, input },
});
const attempt = (number: number, over: Partial<AttemptRecord> = {}): AttemptRecord => ({
  number,
  status: 'SUCCESS',
  statusCode: 200,
  latencyMs: 12,
  bodyPreview: 'ok',
  responseHeaders: {},
  errorClass: null,
  errorMessage: null,
  startedAt: T0,
  ...over,
});
const failedAttempt = (number: number, statusCode = 503) => attempt(number, { status: 'HTTP_ERROR', statusCode });
const recorded = (stepId: string, a: AttemptRecord, next: string | null = null, output: unknown = null): NewExecutionEvent => ({
  type: 'AttemptRecorded',
  data: { step_id: stepId, attempt: a, next_attempt_at: next, output },
});
const completed = (
  stepId: string,
  output: unknown,
  extracted: Record<string, unknown> = {},
  context_updates: Record<string, string> = {},
): NewExecutionEvent => ({ type: 'StepCompleted', data: { step_id: stepId, output, extracted, context_updates } });
const stepFailed = (stepId: string, status: 'failed' | 'rejected' | 'timed_out', code: string, message: string): NewExecutionEvent => ({
  type: 'StepFailed',
  data: { step_id: stepId, status, error: { code, message } },
});
const executionFailed = (code: string, message: string): NewExecutionEvent => ({ type: 'ExecutionFailed', data: { error: { code, message } } });
const parkedOn = (step: StepSpec, expires_at: string, message?: string): NewExecutionEvent => ({
  type: 'ExecutionParked',
  data: {
    step_id: step.id,
    reason: step.type === 'approval' ? 'approval' : 'webhook',
    token_hash: token.hash,
    token_sealed: token.sealed,
    expires_at,
    ...(message !== undefined ? { message } : {}),
  },
});
const resumedBy = (stepId: string, payload: unknown): NewExecutionEvent => ({ type: 'ExecutionResumed', data: { step_id: stepId, via: 'resume', payload } });
const decided = (stepId: string, decision: ApprovalDecision, via: 'approval' | 'timeout' = 'approval'): NewExecutionEvent => ({
  type: 'ExecutionResumed',
  data: { step_id: stepId, via, payload: decision, decision },
});
const decision = (over: Partial<ApprovalDecision> = {}): ApprovalDecision => ({
  decision: 'approved',
  comment: 'looks good',
  decided_by: 'alice',
  decided_at: at(60),
  ...over,
});
const workflowTimeout = (seconds: number) => `the workflow did not finish within ${seconds} s (max_workflow_duration_seconds)`;

// ---------------------------------------------------------------- given / when / then

let position = 0;
function envelope(e: NewExecutionEvent): ExecutionEvent {
  position++;
  return { ...e, version: 1, id: `evt_${position}`, execution_id: 'exec_1', job_id: 'job_1', workspace_id: 'ws_1', occurred_at: T0, position } as ExecutionEvent;
}

type Expected = readonly NewExecutionEvent[] | 'ignore' | { readonly ignore: IgnoreCode };

/** given(past events) / when(command) / then(new events | ignore); `then` returns the new events so a test can go on. */
function given(...history: NewExecutionEvent[]) {
  position = 0;
  const state = history.map(envelope).reduce<ExecutionState>(evolve, initialState());
  return {
    state,
    next: (now: string) => nextAction(state, now),
    when: (command: ExecutionCommand) => ({
      then: (expected: Expected): NewExecutionEvent[] => {
        const result = decide(command, state);
        if (expected === 'ignore') {
          expect(result).toMatchObject({ ignore: true });
          return [];
        }
        if ('ignore' in expected) {
          expect(result).toMatchObject({ ignore: true, code: expected.ignore });
          return [];
        }
        expect(result).toEqual(expected);
        return isIgnore(result) ? [] : [...result];
      },
    }),
  };
}

const progressOf = (state: ExecutionState) => {
  if (state.status !== 'stepping' && state.status !== 'succeeded' && state.status !== 'failed') throw new Error(`no progress while ${state.status}`);
  return state.progress!;
};

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

describe('workflow decider: http step templates (SPEC §4)', () => {
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

// ================================================================= context updates

describe('workflow decider: persisting extract_to_context', () => {
  const first = httpStep({ id: 'first', extract_to_context: { cursor: '$.next' } });
  const second = httpStep({ id: 'second', url: 'https://api.example.com/page/{{context.cursor}}' });
  const job = workflow([first, second]);
  const input = { method: 'POST', url: 'https://api.example.com/items/42', headers: {} };
  const history = [queued(job), started({ item_id: '42' }), stepStarted(first, 0, input), recorded('first', attempt(1), null, { next: 'c-2' })];

  it('asks the shell to persist the updates before the next step starts', () => {
    const { state, next } = given(...history, completed('first', { next: 'c-2' }, { cursor: 'c-2' }, { cursor: 'c-2' }));
    expect(next(at(2))).toEqual({ type: 'start_step', step: second, index: 1, persistContext: { cursor: 'c-2' } });
    expect(contextOf(state)).toEqual({ item_id: '42', cursor: 'c-2' });
  });

  it('drops them once the next step has started', () => {
    const done = completed('first', { next: 'c-2' }, { cursor: 'c-2' }, { cursor: 'c-2' });
    const events = given(...history, done)
      .when({ type: 'StartStep', now: at(2) })
      .then([stepStarted(second, 1, { method: 'POST', url: 'https://api.example.com/page/c-2', headers: {} })]);
    const { state, next } = given(...history, done, ...events);
    expect(progressOf(state).pendingContext).toBeNull();
    expect(next(at(2))).not.toHaveProperty('persistContext');
    const finished = given(...history, done, ...events, recorded('second', attempt(1), null, {}), completed('second', {}));
    expect(finished.next(at(3))).toEqual({ type: 'finish', persistContext: null });
  });

  it('carries the last step’s updates on finish', () => {
    const only = workflow([first]);
    const { next } = given(queued(only), started({ item_id: '42' }), stepStarted(first, 0, input), completed('first', { next: 'c-9' }, { cursor: 'c-9' }, { cursor: 'c-9' }));
    expect(next(at(2))).toEqual({ type: 'finish', persistContext: { cursor: 'c-9' } });
  });

  it('asks for nothing to persist after a step with no extract_to_context', () => {
    const { next } = given(...history, completed('first', { next: 'c-2' }));
    expect(next(at(2))).toEqual({ type: 'start_step', step: second, index: 1, persistContext: null });
  });
});

// ================================================================= extraction

describe('workflow decider: extraction (SPEC §3)', () => {
  const input = { method: 'GET', url: 'https://api.example.com/items/42', headers: {} };
  const succeed = (step: HttpStepSpec, responseBody: unknown) =>
    given(queued(workflow([step])), started({ item_id: '42' }), stepStarted(step, 0, input)).when({
      type: 'RecordAttempt',
      attempt: attempt(1),
      now: at(1),
      jitter: 0,
      responseBody,
    });

  it('sets nothing for a path that finds nothing', () => {
    const step = httpStep({ extract: { gone: '$.missing.deep', first: '$.items[0]' }, extract_to_context: { also_gone: '$.nope', id: '$.id' } });
    succeed(step, { id: 7, items: [] }).then([recorded('fetch', attempt(1), null, { id: 7, items: [] }), completed('fetch', { id: 7, items: [] }, { id: 7 }, { id: '7' })]);
  });

  it('stores non-string values in the context store as JSON text, and keeps them typed in the context', () => {
    const step = httpStep({ extract_to_context: { n: '$.n', flag: '$.flag', obj: '$.obj', nothing: '$.nothing', text: '$.text', list: '$.list[*].id' } });
    const responseBody = { n: 42, flag: true, obj: { a: [1, 2] }, nothing: null, text: 'plain', list: [{ id: 'x' }, { id: 'y' }] };
    succeed(step, responseBody).then([
      recorded('fetch', attempt(1), null, responseBody),
      completed(
        'fetch',
        responseBody,
        { n: 42, flag: true, obj: { a: [1, 2] }, nothing: null, text: 'plain', list: ['x', 'y'] },
        { n: '42', flag: 'true', obj: '{"a":[1,2]}', nothing: 'null', text: 'plain', list: '["x","y"]' },
      ),
    ]);
  });

  it('makes `__proto__` as a name an own property, never a prototype', () => {
    // Built the way a parsed request body is: an object literal `{ __proto__: … }` would set a prototype instead.
    const spec = httpStep({ extract: JSON.parse('{"__proto__": "$.evil"}'), extract_to_context: JSON.parse('{"__proto__": "$.evil"}') });
    const responseBody = { evil: { polluted: 'yes' } };
    const decision = decide({ type: 'RecordAttempt', attempt: attempt(1), now: at(1), jitter: 0, responseBody }, given(queued(workflow([spec])), started(), stepStarted(spec, 0, input)).state);
    expect(isIgnore(decision)).toBe(false);
    const done = (decision as NewExecutionEvent[])[1];
    expect(done.type).toBe('StepCompleted');
    if (done.type !== 'StepCompleted') return;
    for (const target of [done.data.extracted, done.data.context_updates]) {
      expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
      expect(Object.keys(target)).toEqual(['__proto__']);
      expect((target as Record<string, unknown>).polluted).toBeUndefined();
    }
    expect(Object.getOwnPropertyDescriptor(done.data.extracted, '__proto__')?.value).toEqual({ polluted: 'yes' });
    expect(Object.getOwnPropertyDescriptor(done.data.context_updates, '__proto__')?.value).toBe('{"polluted":"yes"}');

    const { state } = given(queued(workflow([spec])), started(), stepStarted(spec, 0, input), ...(decision as NewExecutionEvent[]));
    const context = contextOf(state);
    expect(Object.getPrototypeOf(context)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(context, '__proto__')?.value).toEqual({ polluted: 'yes' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never reads `__proto__` or `constructor` out of the source', () => {
    const step = httpStep({ extract: { a: '$.__proto__', b: '$.constructor', c: '$.ok' } });
    const responseBody = JSON.parse('{"__proto__": {"x": 1}, "ok": 1}');
    succeed(step, responseBody).then([recorded('fetch', attempt(1), null, responseBody), completed('fetch', responseBody, { c: 1 })]);
  });

  it('lets later steps read extracted values through {{context.name}}, keeping their JSON type', () => {
    const first = httpStep({ id: 'first', extract: { name: '$.customer.name', qty: '$.qty' } });
    const second = httpStep({ id: 'second', url: 'https://api.example.com/greet/{{context.name}}', body: { qty: '{{context.qty}}', who: 'to {{context.name}}' } });
    const job = workflow([first, second]);
    const output = { customer: { name: 'Ada' }, qty: 2 };
    given(queued(job), started(), stepStarted(first, 0, input), recorded('first', attempt(1), null, output), completed('first', output, { name: 'Ada', qty: 2 }))
      .when({ type: 'StartStep', now: at(2) })
      .then([stepStarted(second, 1, { method: 'POST', url: 'https://api.example.com/greet/Ada', headers: {}, body: { qty: 2, who: 'to Ada' } })]);
  });

  it('lets an extracted value replace a seeded one', () => {
    const step = httpStep({ extract_to_context: { item_id: '$.next_item' } });
    const { state } = given(
      queued(workflow([step])),
      started({ item_id: '42', kept: 'yes' }),
      stepStarted(step, 0, input),
      completed('fetch', { next_item: '43' }, { item_id: '43' }, { item_id: '43' }),
    );
    expect(contextOf(state)).toEqual({ item_id: '43', kept: 'yes' });
  });
});

// ================================================================= wait_for_webhook

describe('workflow decider: wait_for_webhook (SPEC §3, §7)', () => {
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

// ================================================================= approval

describe('workflow decider: approval (SPEC §3, §7)', () => {
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

// ================================================================= deadline

describe('workflow decider: max_workflow_duration_seconds (SPEC §2)', () => {
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
