import { Migration } from '@mikro-orm/migrations';

/** The scheduler's claim query: active, undeleted jobs by next_run_at. */
export class Migration0004DueJobsIndex extends Migration {
  override up(): void {
    this.addSql("create index jobs_due_idx on jobs (next_run_at) where state = 'active' and deleted_at is null and next_run_at is not null;");
  }

  override down(): void {
    this.addSql('drop index if exists jobs_due_idx;');
  }
}
