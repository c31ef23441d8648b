import { Migration } from '@mikro-orm/migrations';

/** Durable execution timers (parked steps, workflow deadlines) and per-job concurrency slots. */
export class Migration0007TimersAndSlots extends Migration {
  override up(): void {
    this.addSql(`
      create table execution_timers (
        execution_id text primary key,
        job_id text not null,
        workspace_id text not null,
        due_at timestamptz not null,
        created_at timestamptz not null default now()
      );
      create index execution_timers_due_idx on execution_timers (due_at);
      create table execution_slots (
        execution_id text primary key,
        job_id text not null,
        workspace_id text not null,
        queued_at timestamptz not null,
        state text not null check (state in ('queued', 'active')),
        admitted_by text null,
        updated_at timestamptz not null
      );
      create index execution_slots_queue_idx on execution_slots (job_id, state, queued_at, execution_id);
    `);
  }

  override down(): void {
    this.addSql('drop table if exists execution_slots;');
    this.addSql('drop table if exists execution_timers;');
  }
}
