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
