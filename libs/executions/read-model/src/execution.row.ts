import { BigIntType, EntitySchema } from '@mikro-orm/postgresql';
import type { AttemptRecord, ExecutionError, ExecutionStatus, ExecutionTrigger, JobKind } from '@trigrun/execution-contracts';

/** One row per execution: the projection of its events that the inspection endpoints serve. */
export class ExecutionRow {
  id!: string;
  workspaceId!: string;
  jobId!: string;
  jobName!: string;
  kind!: JobKind;
  status!: ExecutionStatus;
  trigger!: ExecutionTrigger;
  scheduledFor: Date | null = null;
  queuedAt!: Date;
  startedAt: Date | null = null;
  finishedAt: Date | null = null;
  durationMs: number | null = null;
  attempts: AttemptRecord[] = [];
  stepExecutions: unknown[] = [];
  triggerInput: unknown = null;
  waitingReason: string | null = null;
  waitingPayload: unknown = null;
  waitingExpiresAt: Date | null = null;
  finalOutput: unknown = null;
  error: ExecutionError | null = null;
  replayOf: string | null = null;
  /** Position of the last event applied: the row's checkpoint. */
  position!: number;
  /** Stream sequence of the last event applied. */
  lastSeq!: number;
  updatedAt!: Date;
}

export const ExecutionRowSchema = new EntitySchema<ExecutionRow>({
  class: ExecutionRow,
  tableName: 'executions',
  properties: {
    id: { type: 'string', primary: true },
    workspaceId: { type: 'string', fieldName: 'workspace_id' },
    jobId: { type: 'string', fieldName: 'job_id' },
    jobName: { type: 'string', fieldName: 'job_name' },
    kind: { type: 'string' },
    status: { type: 'string' },
    trigger: { type: 'string' },
    scheduledFor: { type: 'Date', fieldName: 'scheduled_for', nullable: true },
    queuedAt: { type: 'Date', fieldName: 'queued_at' },
    startedAt: { type: 'Date', fieldName: 'started_at', nullable: true },
    finishedAt: { type: 'Date', fieldName: 'finished_at', nullable: true },
    durationMs: { type: new BigIntType('number'), fieldName: 'duration_ms', nullable: true },
    attempts: { type: 'json' },
    stepExecutions: { type: 'json', fieldName: 'step_executions' },
    triggerInput: { type: 'json', fieldName: 'trigger_input', nullable: true },
    waitingReason: { type: 'string', fieldName: 'waiting_reason', nullable: true },
    waitingPayload: { type: 'json', fieldName: 'waiting_payload', nullable: true },
    waitingExpiresAt: { type: 'Date', fieldName: 'waiting_expires_at', nullable: true },
    finalOutput: { type: 'json', fieldName: 'final_output', nullable: true },
    error: { type: 'json', nullable: true },
    replayOf: { type: 'string', fieldName: 'replay_of', nullable: true },
    position: { type: 'integer' },
    lastSeq: { type: new BigIntType('number'), fieldName: 'last_seq' },
    updatedAt: { type: 'Date', fieldName: 'updated_at' },
  },
});
