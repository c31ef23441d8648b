import { Migration } from '@mikro-orm/migrations';

/** When a job's own run was queued (a one_time job at creation or first activation): it never runs twice by itself. */
export class Migration0002JobLaunchedAt extends Migration {
  override up(): void {
    this.addSql('alter table jobs add column launched_at timestamptz null;');
  }

  override down(): void {
    this.addSql('alter table jobs drop column launched_at;');
  }
}
