import { storableText, storableValue } from '@trigrun/execution-contracts';
import { type ExecutionView, type ProjectionError, type StepExecutionApi, type StepExecutionView, stepToApi } from './execution.projection';

// The `executions` table as the read model reads and writes it, in plain SQL: one mapping
// between rows and ExecutionView for the projector and the queries alike. (The ORM's entity
// bookkeeping cost more CPU than the database work on the projection's hot path.)

/**
 * The read model stores whatever the events carry in the form PostgreSQL accepts (the same rule
 * as at the edge, docs/third-party-data.md): events written before that rule, or by a path that
 * missed it, still project instead of failing their row.
 */
const storableJsonColumn = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(storableValue(v)));
const storableTextColumn = (v: string | null) => (v === null ? null : storableText(v));

/** The columns the projection owns, in upsert order. */
export const COLUMNS = [
  'id',
  'workspace_id',
  'job_id',
  'job_name',
  'kind',
  'status',
  'trigger',
  'scheduled_for',
  'queued_at',
  'started_at',
  'finished_at',
  'duration_ms',
  'attempts',
  'step_executions',
  'trigger_input',
  'context',
  'waiting_reason',
  'waiting_step_id',
  'waiting_message',
  'waiting_token_sealed',
  'waiting_expires_at',
  'final_output',
  'error',
  'replay_of',
  'projection_error',
  'position',
  'last_seq',
] as const;
const JSON_COLUMNS = new Set(['attempts', 'step_executions', 'trigger_input', 'context', 'waiting_token_sealed', 'final_output', 'error', 'projection_error']);
const ROW_PLACEHOLDERS = `(${COLUMNS.map((c) => (JSON_COLUMNS.has(c) ? '?::jsonb' : '?')).join(', ')}, now())`;
/** One statement for a batch; a row only moves forward (a concurrent duplicate writes nothing). */
export const upsertSql = (rows: number) => `insert into executions (${COLUMNS.join(', ')}, updated_at)
  values ${Array.from({ length: rows }, () => ROW_PLACEHOLDERS).join(', ')}
  on conflict (id) do update set ${COLUMNS.slice(1)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}, updated_at = now()
  where executions.position < excluded.position`;

export type RawExecutionRow = Record<(typeof COLUMNS)[number], unknown>;

export function viewOfRow(row: RawExecutionRow): ExecutionView {
  const time = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null ? null : new Date(v as string).toISOString());
  return {
    id: row.id as string,
    workspaceId: row.workspace_id as string,
    jobId: row.job_id as string,
    jobName: row.job_name as string,
    kind: row.kind as ExecutionView['kind'],
    status: row.status as ExecutionView['status'],
    trigger: row.trigger as ExecutionView['trigger'],
    scheduledFor: time(row.scheduled_for),
    queuedAt: time(row.queued_at)!,
    startedAt: time(row.started_at),
    finishedAt: time(row.finished_at),
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    attempts: row.attempts as ExecutionView['attempts'],
    stepExecutions: ((row.step_executions ?? []) as StepExecutionApi[]).map(stepOfStored),
    triggerInput: row.trigger_input,
    context: (row.context ?? null) as ExecutionView['context'],
    waiting:
      row.waiting_reason === null
        ? null
        : {
            reason: row.waiting_reason as NonNullable<ExecutionView['waiting']>['reason'],
            stepId: row.waiting_step_id as string,
            message: row.waiting_message as string | null,
            tokenSealed: row.waiting_token_sealed as NonNullable<ExecutionView['waiting']>['tokenSealed'],
            expiresAt: time(row.waiting_expires_at)!,
          },
    finalOutput: row.final_output,
    error: row.error as ExecutionView['error'],
    replayOf: row.replay_of as string | null,
    projectionError: (row.projection_error ?? null) as ProjectionError | null,
    position: Number(row.position),
  };
}

/** Steps are stored as the API shows them (snake_case, docs/executions.md), so the jsonb reads like the API. */
function stepOfStored(s: StepExecutionApi): StepExecutionView {
  return {
    stepId: s.step_id,
    type: s.type,
    status: s.status,
    startedAt: s.started_at,
    finishedAt: s.finished_at,
    attempts: s.attempts ?? [],
    input: s.input ?? null,
    output: s.output ?? null,
    extracted: s.extracted ?? null,
    error: s.error ?? null,
  };
}

/** The row's values in COLUMNS order (keyed by column, so the order cannot drift). */
export function valuesOf(view: ExecutionView, seq: number): unknown[] {
  const json = storableJsonColumn;
  const text = storableTextColumn;
  const row: RawExecutionRow = {
    id: text(view.id),
    workspace_id: text(view.workspaceId),
    job_id: text(view.jobId),
    job_name: text(view.jobName),
    kind: text(view.kind),
    status: view.status,
    trigger: text(view.trigger),
    scheduled_for: view.scheduledFor,
    queued_at: view.queuedAt,
    started_at: view.startedAt,
    finished_at: view.finishedAt,
    duration_ms: view.durationMs,
    attempts: json(view.attempts),
    step_executions: json(view.stepExecutions.map(stepToApi)),
    trigger_input: json(view.triggerInput),
    context: json(view.context),
    // The token only sealed: the URLs of waiting_payload are built at read time.
    waiting_reason: view.waiting?.reason ?? null,
    waiting_step_id: text(view.waiting?.stepId ?? null),
    waiting_message: text(view.waiting?.message ?? null),
    waiting_token_sealed: json(view.waiting?.tokenSealed),
    waiting_expires_at: view.waiting?.expiresAt ?? null,
    final_output: json(view.finalOutput),
    error: json(view.error),
    replay_of: text(view.replayOf),
    projection_error: json(view.projectionError),
    position: view.position,
    last_seq: seq,
  };
  return COLUMNS.map((c) => row[c]);
}
