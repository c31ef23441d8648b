import { Migration } from '@mikro-orm/migrations';

/** When a job's own run was queued (a one_time job at creation or first activation): it never runs twice by itself. */
export class Migration0002JobLaunchedAt extends Migration {
  override up(): void {
    this.addSql('alter table jobs add column launched_at timestamptz null;');
    // An execution can run (or wait) for longer than 2^31 ms.
    this.addSql('alter table executions alter column duration_ms type bigint;');
  }

  override down(): void {
    this.addSql('alter table jobs drop column launched_at;');
    this.addSql('alter table executions alter column duration_ms type integer;');
  }
}
