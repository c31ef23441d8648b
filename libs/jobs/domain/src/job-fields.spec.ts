import { snapshotOf } from './job-definition';
import { normalizeJobFields } from './job-fields';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const steps = [{ id: 'call', type: 'http', url: 'https://example.com/a' }];
const request = { url: 'https://example.com/r' };
const create = (kind: Parameters<typeof normalizeJobFields>[0], input: Record<string, unknown>) => normalizeJobFields(kind, input, { now: NOW, withSchedule: true });

describe('normalizeJobFields: workflow', () => {
  it('fills the workflow defaults: one at a time, 30 minutes, no schedule', () => {
    expect(create('workflow', { steps })).toEqual({
      value: {
        schedule: null,
        request: null,
        steps: [expect.objectContaining({ id: 'call', type: 'http', method: 'GET' })],
        retryPolicy: { max_attempts: 3, retry_on_statuses: [429, 500, 502, 503, 504] },
        maxConcurrentExecutions: 1,
        maxWorkflowDurationSeconds: 1800,
        onSuccessUrl: null,
        onFailureUrl: null,
        responseOutputTemplate: null,
      },
      problems: [],
    });
  });

  it.each`
    schedule                                                | normalized
    ${{ cron: '0 9 * * 1-5' }}                              | ${{ cron: '0 9 * * 1-5', timezone: 'UTC' }}
    ${{ cron: '0 9 * * *', timezone: 'Europe/Berlin' }}     | ${{ cron: '0 9 * * *', timezone: 'Europe/Berlin' }}
    ${{ every_n_minutes: 15 }}                              | ${{ every_n_minutes: 15 }}
    ${{ run_at: '2026-06-02T09:00:00Z' }}                   | ${{ run_at: '2026-06-02T09:00:00.000Z' }}
    ${null}                                                 | ${null}
  `('takes the schedule $schedule', ({ schedule, normalized }) => {
    expect(create('workflow', { steps, schedule }).value?.schedule).toEqual(normalized);
  });

  it('leaves the schedule alone when not asked to validate it (a PATCH without one)', () => {
    const fields = normalizeJobFields('workflow', { steps, schedule: { cron: 'nonsense' } }, { now: NOW, withSchedule: false });
    expect(fields.problems).toEqual([]);
    expect(fields.value).not.toHaveProperty('schedule');
  });

  it.each`
    case                                 | input                                                                      | field                                   | message
    ${'no steps'}                        | ${{}}                                                                      | ${'steps'}                              | ${'is required: a workflow runs a non-empty list of steps'}
    ${'a request'}                       | ${{ steps, request }}                                                      | ${'request'}                            | ${'is only for recurring, cron, scheduled, one_time jobs; a workflow sends its requests from http steps'}
    ${'two schedule shapes'}             | ${{ steps, schedule: { cron: '* * * * *', every_n_minutes: 5 } }}          | ${'schedule'}                           | ${'must have exactly one of cron, every_n_minutes or run_at'}
    ${'a past run_at'}                   | ${{ steps, schedule: { run_at: '2020-01-01T00:00:00Z' } }}                 | ${'schedule.run_at'}                    | ${'must be in the future'}
    ${'a timezone without cron'}         | ${{ steps, schedule: { every_n_minutes: 5, timezone: 'UTC' } }}            | ${'schedule.timezone'}                  | ${'is only allowed with cron'}
    ${'a duration of 0'}                 | ${{ steps, max_workflow_duration_seconds: 0 }}                             | ${'max_workflow_duration_seconds'}      | ${'must be an integer from 1 to 7200'}
    ${'a duration over 2 hours'}         | ${{ steps, max_workflow_duration_seconds: 7201 }}                          | ${'max_workflow_duration_seconds'}      | ${'must be an integer from 1 to 7200'}
    ${'a negative concurrency'}          | ${{ steps, max_concurrent_executions: -1 }}                                | ${'max_concurrent_executions'}          | ${'must be an integer from 0 (unlimited) to 1000'}
    ${'an output template outside vars'} | ${{ steps, response_output_template: { a: '{{secret}}' } }}                | ${'response_output_template.a'}         | ${'unknown template variable "secret"; allowed: timestamp, uuid, execution_id, context.*, trigger.*'}
    ${'a bad output JSONPath'}           | ${{ steps, response_output_template: { a: '$..x' } }}                      | ${'response_output_template.a'}         | ${'is not a valid JSONPath: recursive descent (..) is not supported at position 1'}
    ${'a bad step'}                      | ${{ steps: [{ id: 'x', type: 'http' }] }}                                   | ${'steps[0].url'}                       | ${'is required (step "x")'}
  `('refuses $case', ({ input, field, message }) => {
    const fields = create('workflow', input);
    expect(fields.value).toBeUndefined();
    expect(fields.problems).toContainEqual({ field, message });
  });

  it('keeps the limits it is given; 0 concurrency means unlimited', () => {
    expect(create('workflow', { steps, max_concurrent_executions: 0, max_workflow_duration_seconds: 7200 }).value).toMatchObject({
      maxConcurrentExecutions: 0,
      maxWorkflowDurationSeconds: 7200,
    });
  });

  it('lets an output template read context, trigger and the last step output', () => {
    const template = { order: '{{context.order_id}}', source: '{{trigger.headers.x-source}}', status: '$.status' };
    expect(create('workflow', { steps, response_output_template: template }).value?.responseOutputTemplate).toEqual(template);
  });
});

describe('normalizeJobFields: request kinds keep their rules', () => {
  it('defaults to unlimited concurrency and no workflow duration', () => {
    expect(create('one_time', { request }).value).toMatchObject({ request: expect.objectContaining({ url: request.url }), steps: null, maxConcurrentExecutions: 0, maxWorkflowDurationSeconds: null });
  });

  it.each`
    kind            | input                                                          | field                               | message
    ${'one_time'}   | ${{ request, steps }}                                          | ${'steps'}                          | ${'is only for workflow and webhook_trigger jobs'}
    ${'one_time'}   | ${{ request, max_workflow_duration_seconds: 60 }}              | ${'max_workflow_duration_seconds'}  | ${'is only for workflow and webhook_trigger jobs'}
    ${'one_time'}   | ${{ request, response_output_template: { a: '{{context.x}}' } }} | ${'response_output_template.a'}  | ${'unknown template variable "context.x"; allowed: timestamp, uuid, execution_id'}
    ${'one_time'}   | ${{ request: { url: 'https://e.com/{{context.x}}' } }}         | ${'request.url'}                    | ${'unknown template variable "context.x"; allowed: timestamp, uuid, execution_id'}
    ${'recurring'}  | ${{ request }}                                                 | ${'schedule'}                       | ${'is required'}
    ${'cron'}       | ${{ steps }}                                                   | ${'request'}                        | ${'is required'}
  `('$kind: $field $message', ({ kind, input, field, message }) => {
    expect(create(kind, input).problems).toContainEqual({ field, message });
  });

  it('answers webhook_trigger as not available', () => {
    expect(create('webhook_trigger', { steps }).problems).toEqual([{ field: 'kind', message: '"webhook_trigger" jobs are not available in this version yet' }]);
  });
});

describe('snapshotOf', () => {
  const base = { name: 'n', retryPolicy: { max_attempts: 3, retry_on_statuses: [503] }, onSuccessUrl: null, onFailureUrl: null };
  const step = create('workflow', { steps }).value!.steps!;

  it('gives a workflow its steps and limits, and no request', () => {
    const snapshot = snapshotOf({ ...base, kind: 'workflow', request: null, steps: step, maxConcurrentExecutions: 1, maxWorkflowDurationSeconds: 600 });
    expect(snapshot).toEqual({
      name: 'n',
      kind: 'workflow',
      steps: step,
      max_workflow_duration_seconds: 600,
      retry_policy: base.retryPolicy,
      on_success_url: null,
      on_failure_url: null,
      max_concurrent_executions: 1,
    });
    expect(snapshot).not.toHaveProperty('request');
  });

  it('defaults a missing workflow duration to 1800 seconds', () => {
    expect(snapshotOf({ ...base, kind: 'workflow', steps: step, maxWorkflowDurationSeconds: null }).max_workflow_duration_seconds).toBe(1800);
  });

  it('gives a request job its request and concurrency, and no steps or duration', () => {
    const req = create('cron', { request, schedule: { cron: '* * * * *' } }).value!.request!;
    const snapshot = snapshotOf({ ...base, kind: 'cron', request: req, steps: null, maxConcurrentExecutions: 0, maxWorkflowDurationSeconds: null, responseOutputTemplate: { a: '$.a' } });
    expect(snapshot).toEqual({
      name: 'n',
      kind: 'cron',
      request: req,
      retry_policy: base.retryPolicy,
      on_success_url: null,
      on_failure_url: null,
      max_concurrent_executions: 0,
      response_output_template: { a: '$.a' },
    });
  });

  it('refuses to snapshot a job without what its kind runs', () => {
    expect(() => snapshotOf({ ...base, kind: 'workflow', steps: null })).toThrow(/has no steps/);
    expect(() => snapshotOf({ ...base, kind: 'one_time', request: null })).toThrow(/has no request/);
  });
});
