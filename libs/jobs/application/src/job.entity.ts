import { EntitySchema } from '@mikro-orm/postgresql';
import { type JobKind, type RequestSpec, type RetryPolicy, STEP_KINDS, type StepSpec } from '@trigrun/execution-contracts';

export type JobState = 'active' | 'paused' | 'draft' | 'completed';
export const JOB_STATES: readonly JobState[] = ['active', 'paused', 'draft', 'completed'];

/** A job definition. Jobs are plain state (not event-sourced): their runs are the event-sourced part. */
export class Job {
  id!: string;
  workspaceId!: string;
  name!: string;
  kind!: JobKind;
  state!: JobState;
  schedule: Record<string, unknown> | null = null;
  request: RequestSpec | null = null;
  steps: StepSpec[] | null = null;
  retryPolicy!: RetryPolicy;
  maxConcurrentExecutions!: number;
  maxWorkflowDurationSeconds: number | null = null;
  onSuccessUrl: string | null = null;
  onFailureUrl: string | null = null;
  responseOutputTemplate: unknown = null;
  nextRunAt: Date | null = null;
  lastRunAt: Date | null = null;
  /** When the job's own run was queued; a one_time job is launched once, at creation or first activation. */
  launchedAt: Date | null = null;
  /** The run the scheduler armed ahead of its slot, and that slot (see JobScheduler); withdrawn if the job changes first. */
  armedExecutionId: string | null = null;
  armedFor: Date | null = null;
  createdAt!: Date;
  updatedAt!: Date;
  deletedAt: Date | null = null;
}

export const JobSchema = new EntitySchema<Job>({
  class: Job,
  tableName: 'jobs',
  properties: {
    id: { type: 'string', primary: true },
    workspaceId: { type: 'string', fieldName: 'workspace_id' },
    name: { type: 'string' },
    kind: { type: 'string' },
    state: { type: 'string' },
    schedule: { type: 'json', nullable: true },
    request: { type: 'json', nullable: true },
    steps: { type: 'json', nullable: true },
    retryPolicy: { type: 'json', fieldName: 'retry_policy' },
    maxConcurrentExecutions: { type: 'integer', fieldName: 'max_concurrent_executions' },
    maxWorkflowDurationSeconds: { type: 'integer', fieldName: 'max_workflow_duration_seconds', nullable: true },
    onSuccessUrl: { type: 'string', fieldName: 'on_success_url', nullable: true },
    onFailureUrl: { type: 'string', fieldName: 'on_failure_url', nullable: true },
    responseOutputTemplate: { type: 'json', fieldName: 'response_output_template', nullable: true },
    nextRunAt: { type: 'Date', fieldName: 'next_run_at', nullable: true },
    lastRunAt: { type: 'Date', fieldName: 'last_run_at', nullable: true },
    launchedAt: { type: 'Date', fieldName: 'launched_at', nullable: true },
    armedExecutionId: { type: 'string', fieldName: 'armed_execution_id', nullable: true },
    armedFor: { type: 'Date', fieldName: 'armed_for', nullable: true },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    updatedAt: { type: 'Date', fieldName: 'updated_at' },
    deletedAt: { type: 'Date', fieldName: 'deleted_at', nullable: true },
  },
});

export function jobView(job: Job) {
  return {
    id: job.id,
    name: job.name,
    kind: job.kind,
    state: job.state,
    schedule: job.schedule,
    // A job has `request` or `steps`, by kind; never both (docs/jobs.md).
    ...(STEP_KINDS.includes(job.kind) ? { steps: job.steps } : { request: job.request }),
    retry_policy: job.retryPolicy,
    max_concurrent_executions: job.maxConcurrentExecutions,
    max_workflow_duration_seconds: job.maxWorkflowDurationSeconds,
    on_success_url: job.onSuccessUrl,
    on_failure_url: job.onFailureUrl,
    response_output_template: job.responseOutputTemplate,
    // The scheduler moves next_run_at past a slot once it has armed its run (ahead of time); until
    // that slot comes, it is still the job's next run.
    next_run_at: (job.armedFor && job.armedFor.getTime() > Date.now() ? job.armedFor : job.nextRunAt)?.toISOString() ?? null,
    last_run_at: job.lastRunAt?.toISOString() ?? null,
    created_at: job.createdAt.toISOString(),
    updated_at: job.updatedAt.toISOString(),
  };
}
export type JobApi = ReturnType<typeof jobView>;
