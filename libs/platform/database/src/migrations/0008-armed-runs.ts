import { Migration } from '@mikro-orm/migrations';

/**
 * The run the scheduler armed ahead of its slot (its lookahead), so that pausing, deleting or
 * changing the job before the slot can take it back. Null when nothing is armed.
 */
export class Migration0008ArmedRuns extends Migration {
  override up(): void {
    this.addSql(`
      alter table jobs
        add column armed_execution_id text null,
        add column armed_for timestamptz null;
    `);
  }

  override down(): void {
    this.addSql('alter table jobs drop column if exists armed_execution_id, drop column if exists armed_for;');
  }
}
