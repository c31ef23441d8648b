import { Migration } from '@mikro-orm/migrations';

/**
 * A job's concurrency queue is ordered by the stream sequence of each execution's ExecutionQueued:
 * `queued_at` has millisecond resolution, and two executions queued within the same millisecond
 * were ordered by their (random) ids. Rows from before have no sequence and stay first in line.
 */
export class Migration0009SlotQueueSequence extends Migration {
  override up(): void {
    this.addSql(`
      alter table execution_slots add column queue_seq bigint null;
      drop index if exists execution_slots_queue_idx;
      create index execution_slots_queue_idx on execution_slots (job_id, state, queue_seq nulls first, execution_id);
    `);
  }

  override down(): void {
    this.addSql(`
      drop index if exists execution_slots_queue_idx;
      alter table execution_slots drop column if exists queue_seq;
      create index execution_slots_queue_idx on execution_slots (job_id, state, queued_at, execution_id);
    `);
  }
}
