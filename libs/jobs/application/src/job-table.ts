import type { EntityManager } from '@mikro-orm/postgresql';
import type { JobKind, RequestSpec, RetryPolicy, StepSpec } from '@trigrun/execution-contracts';
import type { NormalizedSchedule } from '@trigrun/scheduling-domain';

/**
 * The `jobs` table's statements that touch many rows at once: the scheduler's claim of due slots
 * and the record of their runs, and the jobs reaction's record of what executions did (a start,
 * the end of a one-shot job's run). Plain SQL on purpose: a claim or a reaction batch touches
 * hundreds of rows, and the ORM's bookkeeping of them cost more than the database work. The row
 * shape is `Job` (job.entity.ts); this module is the only other place that names its columns.
 * Every statement runs in the caller's transaction.
 */

/** A job row as the scheduler's claim reads it: what its snapshot and its next slot need. */
export interface DueJob {
  id: string;
  workspace_id: string;
  name: string;
  kind: JobKind;
  schedule: NormalizedSchedule;
  request: RequestSpec | null;
  steps: StepSpec[] | null;
  retry_policy: RetryPolicy;
  max_concurrent_executions: number;
  max_workflow_duration_seconds: number | null;
  on_success_url: string | null;
  on_failure_url: string | null;
  response_output_template: unknown;
  created_at: Date | string;
  updated_at: Date | string;
  next_run_at: Date | string;
}

export interface DueClaim {
  /** Slots due up to here are claimed (now plus the scheduler's lookahead). */
  readonly horizon: Date;
  readonly now: Date;
  readonly kinds: readonly JobKind[];
  readonly limit: number;
}

/** What the scheduler did with a claimed job: its next slot, and the run it armed ahead of its slot (or null). */
export interface RecordedRun {
  readonly jobId: string;
  readonly next: Date | null;
  readonly armed: { readonly executionId: string; readonly slot: Date } | null;
}

/** A start of one of the job's executions: `last_run_at` never moves back. */
export interface RunStart {
  readonly jobId: string;
  readonly at: string;
}

/** The end of a one-shot job's own run: the job becomes `completed`, its start recorded if not yet. */
export interface OneShotEnd {
  readonly jobId: string;
  readonly endedAt: string;
  /** When the run started (null if it ended before starting): `last_run_at`, in case its start is recorded later. */
  readonly startedAt: string | null;
}

/** The kinds a single run completes: one_time, scheduled, and a workflow on `schedule.run_at`. */
export const ONE_SHOT_KINDS: readonly JobKind[] = ['one_time', 'scheduled', 'workflow'];
/** The row condition that goes with ONE_SHOT_KINDS: a workflow is one-shot only on `run_at`. */
const ONE_SHOT_ROW = `jobs.state = 'active' and (jobs.kind in ('one_time', 'scheduled') or (jobs.kind = 'workflow' and jobs.schedule->>'run_at' is not null))`;

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
/** Rows in id order: two writers locking overlapping sets of rows take the locks in the same order (no deadlock). */
const byJobId = <T extends { jobId: string }>(rows: readonly T[]) => [...rows].sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0));

/**
 * Locks and returns up to `limit` active jobs of `kinds` whose slot is due by `horizon`, skipping
 * rows another replica holds (`FOR UPDATE SKIP LOCKED`): replicas split the work, never share a job.
 * A job whose armed run's slot is still ahead is not claimed (one armed run per job); nor one whose
 * last run is still in the outbox (the broker was away): an outage leaves at most one run per job
 * behind, never one per missed slot.
 */
export async function claimDueJobs(em: EntityManager, claim: DueClaim): Promise<DueJob[]> {
  return em.execute<DueJob[]>(
    `select id, workspace_id, name, kind, schedule, request, steps, retry_policy, max_concurrent_executions, max_workflow_duration_seconds,
            on_success_url, on_failure_url, response_output_template, created_at, updated_at, next_run_at
       from jobs
      where state = 'active' and deleted_at is null and next_run_at <= ? and kind in (${placeholders(claim.kinds.length)})
        and (armed_for is null or armed_for <= ?)
        and not exists (select 1 from job_outbox o where o.job_id = jobs.id)
      order by next_run_at
      limit ?
      for update skip locked`,
    [claim.horizon, ...claim.kinds, claim.now, claim.limit],
  );
}

/** Records the runs of claimed jobs in one statement: the next slot, when the run was queued, the run armed ahead. */
export async function recordRuns(em: EntityManager, runs: readonly RecordedRun[], launchedAt: Date): Promise<void> {
  if (runs.length === 0) return;
  await em.execute(
    `update jobs set next_run_at = v.next, launched_at = ?, armed_execution_id = v.armed, armed_for = v.armed_for
       from (values ${runs.map(() => '(?, ?::timestamptz, ?, ?::timestamptz)').join(', ')}) as v(id, next, armed, armed_for)
      where jobs.id = v.id`,
    [launchedAt, ...runs.flatMap((r) => [r.jobId, r.next?.toISOString() ?? null, r.armed?.executionId ?? null, r.armed?.slot.toISOString() ?? null])],
  );
}

/** Moves `last_run_at` to each job's latest start, never back (a start recorded late changes nothing). */
export async function recordStarts(em: EntityManager, starts: readonly RunStart[]): Promise<void> {
  const latest = new Map<string, string>();
  for (const s of starts) if ((latest.get(s.jobId) ?? '') < s.at) latest.set(s.jobId, s.at);
  if (latest.size === 0) return;
  const rows = byJobId([...latest].map(([jobId, at]) => ({ jobId, at })));
  await em.execute(
    `update jobs set last_run_at = greatest(coalesce(last_run_at, v.t), v.t)
       from (values ${rows.map(() => '(?, ?::timestamptz)').join(', ')}) as v(id, t) where jobs.id = v.id`,
    rows.flatMap((r) => [r.jobId, r.at]),
  );
}

/** Of `jobIds`, the jobs a run of their own would complete now: active, of a one-shot kind (ONE_SHOT_KINDS). */
export async function activeOneShotJobs(em: EntityManager, jobIds: readonly string[]): Promise<Set<string>> {
  const ids = [...new Set(jobIds)];
  if (ids.length === 0) return new Set();
  const rows = await em.execute<{ id: string }[]>(`select id from jobs where id in (${placeholders(ids.length)}) and ${ONE_SHOT_ROW}`, ids);
  return new Set(rows.map((r) => r.id));
}

/**
 * Completes one-shot jobs whose own run ended: `completed`, no next run, `updated_at` the end.
 * Conditional on the row (still active, still one-shot), so a repeated end changes nothing and a
 * job paused or deleted meanwhile keeps what it was told. Returns the jobs it completed.
 */
export async function completeOneShots(em: EntityManager, ends: readonly OneShotEnd[]): Promise<string[]> {
  // A job has one own run; should two ends of one job meet in a batch, the later one counts.
  const last = new Map<string, OneShotEnd>();
  for (const e of ends) last.set(e.jobId, e);
  if (last.size === 0) return [];
  const rows = byJobId([...last.values()]);
  const done = await em.execute<{ id: string }[]>(
    `update jobs set state = 'completed', next_run_at = null, updated_at = v.t,
                     last_run_at = case when v.started is null then jobs.last_run_at else greatest(coalesce(jobs.last_run_at, v.started), v.started) end
       from (values ${rows.map(() => '(?, ?::timestamptz, ?::timestamptz)').join(', ')}) as v(id, t, started)
      where jobs.id = v.id and ${ONE_SHOT_ROW}
      returning jobs.id`,
    rows.flatMap((r) => [r.jobId, r.endedAt, r.startedAt]),
  );
  return done.map((r) => r.id);
}
