import type { ExecutionEvent } from '@trigrun/execution-contracts';
import { queuedExecutionAnswer } from './queued-execution';

const queued = (job: object, data: object = {}): ExecutionEvent =>
  ({
    type: 'ExecutionQueued',
    version: 1,
    id: 'evt_1',
    execution_id: 'exec_1',
    job_id: 'job_1',
    workspace_id: 'ws_1',
    occurred_at: '2026-03-15T10:00:00.020Z',
    position: 1,
    data: { job, trigger: 'manual', scheduled_for: null, replay_of: null, trigger_input: null, ...data },
  }) as ExecutionEvent;

describe('queuedExecutionAnswer: a run-now answers with the execution as GET /v1/executions/:id shows it once queued', () => {
  it('answers a request job with every field, in the order the read model serves them', () => {
    const answer = queuedExecutionAnswer(queued({ name: 'hello', kind: 'recurring', request: { url: 'https://example.com/' } }));
    // Byte for byte: the order of the keys is part of the body.
    expect(JSON.stringify(answer)).toBe(
      JSON.stringify({
        id: 'exec_1',
        job_id: 'job_1',
        job_name: 'hello',
        kind: 'recurring',
        status: 'queued',
        trigger: 'manual',
        scheduled_for: null,
        queued_at: '2026-03-15T10:00:00.020Z',
        started_at: null,
        finished_at: null,
        duration_ms: null,
        attempts: [],
        step_executions: [],
        trigger_input: null,
        waiting_reason: null,
        waiting_payload: null,
        waiting_expires_at: null,
        final_output: null,
        error: null,
        replay_of: null,
        projection_error: null,
      }),
    );
  });

  it('seeds a workflow’s steps as pending, and keeps the trigger input and the replayed execution', () => {
    const steps = [
      { id: 'call', type: 'http' },
      { id: 'review', type: 'approval' },
    ];
    const answer = queuedExecutionAnswer(queued({ name: 'flow', kind: 'workflow', steps }, { trigger_input: { a: 1 }, replay_of: 'exec_0', scheduled_for: '2026-03-15T10:01:00.000Z' }));
    expect(answer).toMatchObject({ kind: 'workflow', trigger_input: { a: 1 }, replay_of: 'exec_0', scheduled_for: '2026-03-15T10:01:00.000Z' });
    expect(JSON.stringify(answer.step_executions[1])).toBe(
      JSON.stringify({ step_id: 'review', type: 'approval', status: 'pending', started_at: null, finished_at: null, attempts: [], input: null, output: null, extracted: null, error: null }),
    );
    expect(answer.step_executions.map((s) => s.step_id)).toEqual(['call', 'review']);
  });

  it('refuses anything but the ExecutionQueued a launch returns', () => {
    expect(() => queuedExecutionAnswer({ ...queued({ name: 'x', kind: 'one_time' }), type: 'ExecutionStarted' } as ExecutionEvent)).toThrow('ExecutionQueued');
  });
});
