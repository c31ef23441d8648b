import type { ExecutionEvent } from './events';
import { callbackBody, callbackFor } from './callbacks';

const envelope = (position: number, type: string, data: object, at: string) =>
  ({ type, version: 1, id: `evt_${position}`, execution_id: 'exec_1', job_id: 'job_1', workspace_id: 'ws_1', occurred_at: at, position, data }) as ExecutionEvent;

const job = { name: 'n', kind: 'one_time', retry_policy: { max_attempts: 2, retry_on_statuses: [503] }, on_success_url: 'https://hooks.example/ok', on_failure_url: null };
const queued = envelope(1, 'ExecutionQueued', { job, trigger: 'manual', scheduled_for: null, replay_of: null, trigger_input: null }, '2026-01-01T00:00:00.000Z');
const started = envelope(2, 'ExecutionStarted', { variables: {} }, '2026-01-01T00:00:01.000Z');

describe('callbackBody', () => {
  it('describes a succeeded execution', () => {
    const end = envelope(3, 'ExecutionSucceeded', { final_output: { a: 1 } }, '2026-01-01T00:00:02.000Z');
    expect(callbackBody([queued, started, end])).toEqual({
      event: 'execution.succeeded',
      execution: {
        id: 'exec_1',
        job_id: 'job_1',
        status: 'succeeded',
        final_output: { a: 1 },
        error: null,
        started_at: '2026-01-01T00:00:01.000Z',
        finished_at: '2026-01-01T00:00:02.000Z',
      },
    });
  });

  it('describes a failed execution with its error', () => {
    const end = envelope(3, 'ExecutionFailed', { error: { code: 'timeout', message: 'attempt 3 timed out' } }, '2026-01-01T00:00:02.000Z');
    expect(callbackBody([queued, started, end])).toMatchObject({
      event: 'execution.failed',
      execution: { status: 'failed', final_output: null, error: { code: 'timeout', message: 'attempt 3 timed out' } },
    });
  });

  it('has nothing to say before the execution ended', () => {
    expect(callbackBody([queued, started])).toBeNull();
  });
});

describe('callbackFor', () => {
  it('asks for the URL of the outcome, with the job retry policy', () => {
    const end = envelope(3, 'ExecutionSucceeded', { final_output: null }, '2026-01-01T00:00:02.000Z');
    expect(callbackFor([queued, started, end])).toMatchObject({
      type: 'DeliverCallback',
      version: 1,
      execution_id: 'exec_1',
      url: 'https://hooks.example/ok',
      retry_policy: { max_attempts: 2, retry_on_statuses: [503] },
      body: { event: 'execution.succeeded' },
    });
  });

  it('asks for nothing when the outcome has no URL, or the execution has not ended', () => {
    const failed = envelope(3, 'ExecutionFailed', { error: { code: 'timeout', message: 'x' } }, '2026-01-01T00:00:02.000Z');
    expect(callbackFor([queued, started, failed])).toBeNull();
    expect(callbackFor([queued, started])).toBeNull();
  });
});
