import type { ExecutionTrigger, JobSnapshot } from '@trigrun/execution-contracts';
import { newId } from '@trigrun/util';
import type { ExecutionEvent } from '@trigrun/execution-contracts';
import type { ExecutionStore } from './execution-store';

export interface LaunchRequest {
  readonly workspaceId: string;
  readonly jobId: string;
  readonly job: JobSnapshot;
  readonly trigger: ExecutionTrigger;
  readonly scheduledFor?: string | null;
  readonly replayOf?: string | null;
  readonly triggerInput?: unknown;
  readonly executionId?: string;
}

/** Starts an execution's history: its first event, ExecutionQueued, durably stored before this returns. */
export async function launchExecution(store: ExecutionStore, req: LaunchRequest, now: () => Date): Promise<ExecutionEvent> {
  const identity = { executionId: req.executionId ?? newId('exec', now().getTime()), jobId: req.jobId, workspaceId: req.workspaceId };
  const result = await store.execute(
    identity,
    () => ({
      type: 'QueueExecution',
      identity,
      job: req.job,
      trigger: req.trigger,
      scheduledFor: req.scheduledFor ?? null,
      replayOf: req.replayOf ?? null,
      triggerInput: req.triggerInput ?? null,
    }),
    { now, loaded: { state: { status: 'initial' }, events: [], lastSeq: 0, position: 0 }, maxConflicts: 0 },
  );
  if ('ignored' in result) throw new Error(`execution ${identity.executionId} already exists`);
  return result.appended[0];
}

/**
 * A new execution with the same input as `executionId` (its job snapshot and trigger input),
 * `trigger: "replay"` and `replay_of` set; null when there is no such execution in the workspace.
 */
export async function replayExecution(store: ExecutionStore, workspaceId: string, executionId: string, now: () => Date): Promise<ExecutionEvent | null> {
  if (!/^exec_[0-9A-Z]{26}$/.test(executionId)) return null;
  const original = await store.load(executionId);
  const queued = original.events[0];
  if (!queued || queued.type !== 'ExecutionQueued' || queued.workspace_id !== workspaceId) return null;
  return launchExecution(
    store,
    {
      workspaceId,
      jobId: queued.job_id,
      job: queued.data.job,
      trigger: 'replay',
      replayOf: executionId,
      triggerInput: queued.data.trigger_input,
    },
    now,
  );
}
