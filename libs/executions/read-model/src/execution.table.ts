import type { ExecutionView } from './execution.projection';

// The `executions` table as the read model reads and writes it, in plain SQL: one mapping
// between rows and ExecutionView for the projector and the queries alike. (The ORM's entity
// bookkeeping cost more CPU than the database work on the projection's hot path.)

/** jsonb cannot hold U+0000 in strings; anything a target or a webhook sent may contain it. */
export function storable<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value) as T;
  if (Array.isArray(value)) return value.map(storable) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storable(v)])) as T;
  }
  return value;
}

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
  'trigger_input',
  'final_output',
  'error',
  'replay_of',
  'position',
  'last_seq',
] as const;
const JSON_COLUMNS = new Set(['attempts', 'trigger_input', 'final_output', 'error']);
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
    triggerInput: row.trigger_input,
    finalOutput: row.final_output,
    error: row.error as ExecutionView['error'],
    replayOf: row.replay_of as string | null,
    position: Number(row.position),
  };
}

export function valuesOf(view: ExecutionView, seq: number): unknown[] {
  const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(storable(v)));
  return [
    view.id,
    view.workspaceId,
    view.jobId,
    view.jobName,
    view.kind,
    view.status,
    view.trigger,
    view.scheduledFor,
    view.queuedAt,
    view.startedAt,
    view.finishedAt,
    view.durationMs,
    json(view.attempts),
    json(view.triggerInput),
    json(view.finalOutput),
    json(view.error),
    view.replayOf,
    view.position,
    seq,
  ];
}
