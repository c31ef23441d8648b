import { InvalidEventError, parseExecutionEvent } from './validate';

const queued = {
  type: 'ExecutionQueued',
  version: 1,
  id: 'evt_1',
  execution_id: 'exec_1',
  job_id: 'job_1',
  workspace_id: 'ws_1',
  occurred_at: '2026-03-15T10:00:00.000Z',
  position: 1,
  data: {
    job: {
      name: 'n',
      kind: 'one_time',
      request: { url: 'https://e.com', method: 'GET', headers: {}, timeout_seconds: 30, success_statuses: [200] },
      retry_policy: { max_attempts: 3, retry_on_statuses: [503] },
    },
    trigger: 'manual',
    scheduled_for: null,
    replay_of: null,
    trigger_input: null,
  },
};

describe('parseExecutionEvent', () => {
  it('accepts a well-formed event', () => {
    expect(parseExecutionEvent(queued)).toBe(queued);
  });

  it.each([
    ['an unknown type', { ...queued, type: 'ExecutionExploded' }, /unknown event type/],
    ['another schema version', { ...queued, version: 2 }, /version 2 is not supported/],
    ['a missing envelope field', { ...queued, workspace_id: undefined }, /envelope field "workspace_id"/],
    ['a zero position', { ...queued, position: 0 }, /envelope field "position"/],
    ['a job without a retry policy', { ...queued, data: { ...queued.data, job: { ...queued.data.job, retry_policy: undefined } } }, /data field "job"/],
    ['success statuses that are not numbers', { ...queued, data: { ...queued.data, job: { ...queued.data.job, request: { ...queued.data.job.request, success_statuses: ['200'] } } } }, /data field "job"/],
    ['an unknown trigger', { ...queued, data: { ...queued.data, trigger: 'cosmic-ray' } }, /data field "trigger"/],
    ['an attempt with a bad status', { ...queued, type: 'AttemptRecorded', data: { step_id: null, next_attempt_at: null, attempt: { number: 1, status: 'MAYBE' } } }, /data field "attempt"/],
  ])('rejects %s', (_name, event, message) => {
    expect(() => parseExecutionEvent(event)).toThrow(InvalidEventError);
    expect(() => parseExecutionEvent(event)).toThrow(message);
  });
});
