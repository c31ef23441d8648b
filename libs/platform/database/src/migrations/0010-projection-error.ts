import { Migration } from '@mikro-orm/migrations';

/**
 * Why an execution's row missed an event (docs/third-party-data.md): the projection skips an
 * event it cannot apply instead of stalling behind it, and records that here. Null when every
 * event applied. Adding a nullable column without a default rewrites nothing.
 */
export class Migration0010ProjectionError extends Migration {
  override up(): void {
    this.addSql('alter table executions add column projection_error jsonb null;');
  }

  override down(): void {
    this.addSql('alter table executions drop column if exists projection_error;');
  }
}
