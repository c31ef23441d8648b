import type { ExecutionEvent, ExecutionEventOf } from '@trigrun/execution-contracts';

/**
 * The answer of a run-now: the execution just queued, in the public (snake_case) shape that
 * `GET /v1/executions/:id` serves (docs/events.md, README "The API"). Built here from the
 * ExecutionQueued event itself, not by borrowing the read model's fold: the write side answers
 * with what it wrote. The fields and their order are the read model's for a queued execution, so
 * the JSON body is the same byte for byte (queued-execution.spec.ts, test/e2e/jobs.e2e-spec.ts).
 */
export function queuedExecutionAnswer(event: ExecutionEvent) {
  if (event.type !== 'ExecutionQueued') throw new Error(`a launch answers with its ExecutionQueued, not ${event.type}`);
  const e: ExecutionEventOf<'ExecutionQueued'> = event;
  return {
    id: e.execution_id,
    job_id: e.job_id,
    job_name: e.data.job.name,
    kind: e.data.job.kind,
    status: 'queued' as const,
    trigger: e.data.trigger,
    scheduled_for: e.data.scheduled_for,
    queued_at: e.occurred_at,
    started_at: null,
    finished_at: null,
    duration_ms: null,
    attempts: [],
    // Step-driven kinds: every step of the snapshot, pending.
    step_executions: (e.data.job.steps ?? []).map((step) => ({
      step_id: step.id,
      type: step.type,
      status: 'pending' as const,
      started_at: null,
      finished_at: null,
      attempts: [],
      input: null,
      output: null,
      extracted: null,
      error: null,
    })),
    trigger_input: e.data.trigger_input ?? null,
    waiting_reason: null,
    waiting_payload: null,
    waiting_expires_at: null,
    final_output: null,
    error: null,
    replay_of: e.data.replay_of,
    projection_error: null,
  };
}
export type QueuedExecutionAnswer = ReturnType<typeof queuedExecutionAnswer>;
