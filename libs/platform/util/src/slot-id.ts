import { createHash } from 'node:crypto';
import { ulid } from './ids';

/**
 * The execution id of a job's schedule slot, the same every time it is computed: a ULID whose
 * time is the slot and whose random part is a hash of job, slot and the job's revision (its
 * `updated_at`). Two schedulers (or one that crashed after publishing and before committing) that
 * fire the same slot of the same definition write the same execution, and the event store lets
 * only the first ExecutionQueued in. A changed job gets a new id for the same slot, so a run armed
 * ahead and withdrawn because of the change can be armed again with the new definition.
 */
export function executionIdForSlot(jobId: string, slot: Date, revision: Date): string {
  const digest = createHash('sha256').update(`${jobId}@${slot.toISOString()}#${revision.toISOString()}`).digest();
  return `exec_${ulid(slot.getTime(), digest.subarray(0, 10))}`;
}
