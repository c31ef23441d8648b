import { createHash } from 'node:crypto';
import { ulid } from '@trigrun/util';

/**
 * The execution id of a job's schedule slot, the same every time it is computed: a ULID whose
 * time is the slot and whose random part is a hash of job and slot. Two schedulers (or one that
 * crashed after publishing and before committing) that fire the same slot write the same
 * execution, and the event store lets only the first ExecutionQueued in.
 */
export function executionIdForSlot(jobId: string, slot: Date): string {
  const digest = createHash('sha256').update(`${jobId}@${slot.toISOString()}`).digest();
  return `exec_${ulid(slot.getTime(), digest.subarray(0, 10))}`;
}
