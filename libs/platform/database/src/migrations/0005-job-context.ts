import { Migration } from '@mikro-orm/migrations';

/**
 * The per-job context store of workflows (docs/workflows.md): one row per job holding a flat object of
 * string values; the row goes with its job (and the job with its workspace).
 */
export class Migration0005JobContext extends Migration {
  override up(): void {
    this.addSql(`
      create table job_contexts (
        job_id text primary key references jobs (id) on delete cascade,
        workspace_id text not null,
        "values" jsonb not null default '{}',
        updated_at timestamptz not null
      );
    `);
  }

  override down(): void {
    this.addSql('drop table if exists job_contexts;');
  }
}
