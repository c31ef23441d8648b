import type { MikroORM } from '@mikro-orm/postgresql';
import type { ContextChanges } from '@trigrun/job-domain';

export interface JobContextState {
  readonly context: Record<string, string>;
  /** ISO-8601 with milliseconds; null while nothing was ever stored. */
  readonly updated_at: string | null;
}

interface ContextRow {
  values: Record<string, string>;
  updated_at: Date | string;
}

/**
 * The persisted per-job context store (docs/workflows.md): one `job_contexts` row per job, its values a
 * flat jsonb object of strings. Every write is one `INSERT … ON CONFLICT DO UPDATE` that applies
 * its changes to the row as it stands when the row lock is taken, so concurrent writers (an API
 * PATCH and a step's `extract_to_context`) never lose each other's keys.
 *
 * It trusts its callers: the API validates a PATCH (normalizeContextPatch) and checks the job's
 * workspace first; the step-runner writes extracted values of its own job.
 */
export class JobContextStore {
  constructor(
    private readonly orm: MikroORM,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(jobId: string): Promise<JobContextState> {
    const rows = await this.orm.em.fork().execute<ContextRow[]>('select "values", updated_at from job_contexts where job_id = ?', [jobId]);
    return rows.length === 0 ? { context: {}, updated_at: null } : stateOf(rows[0]!);
  }

  /** The values a new execution's `context` starts from. */
  async seed(jobId: string): Promise<Record<string, string>> {
    return (await this.get(jobId)).context;
  }

  /** A string sets its key, null deletes it; answers the state after the change. */
  async patch(jobId: string, workspaceId: string, changes: ContextChanges): Promise<JobContextState> {
    return this.upsert(jobId, workspaceId, changes);
  }

  /**
   * Writes values extracted by a step (`extract_to_context`). Idempotent: a redelivered step
   * writes the same values again, which changes nothing but `updated_at`.
   */
  async merge(jobId: string, workspaceId: string, values: Readonly<Record<string, string>>): Promise<void> {
    if (Object.keys(values).length === 0) return;
    await this.upsert(jobId, workspaceId, values);
  }

  /**
   * `old || changes` overwrites keys and marks deletions with JSON null; stripping the nulls
   * deletes them. Stored values are strings only, so nothing else is ever null.
   */
  private async upsert(jobId: string, workspaceId: string, changes: ContextChanges): Promise<JobContextState> {
    const json = JSON.stringify(changes);
    const rows = await this.orm.em.fork().execute<ContextRow[]>(
      `insert into job_contexts (job_id, workspace_id, "values", updated_at)
       values (?, ?, jsonb_strip_nulls(?::jsonb), ?)
       on conflict (job_id) do update
          set "values" = jsonb_strip_nulls(job_contexts."values" || ?::jsonb),
              updated_at = excluded.updated_at
       returning "values", updated_at`,
      [jobId, workspaceId, json, this.now(), json],
    );
    return stateOf(rows[0]!);
  }
}

const stateOf = (row: ContextRow): JobContextState => ({
  context: row.values,
  updated_at: new Date(row.updated_at).toISOString(),
});
