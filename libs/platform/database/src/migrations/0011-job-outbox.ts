import { Migration } from '@mikro-orm/migrations';

/**
 * The jobs API's outbox (docs/failure-behaviour.md): what a request must still tell the broker
 * (queue a one_time job's run, withdraw and re-arm an armed run) is written here in the
 * request's own transaction and carried out after it commits, by the request and — for whatever
 * it could not finish — by the relay. No transaction waits for the broker.
 * `claimed_until` is a lease: whoever carries an entry out holds no lock while it talks to NATS.
 */
export class Migration0011JobOutbox extends Migration {
  override up(): void {
    this.addSql(`create table job_outbox (
      id bigserial primary key,
      job_id text not null,
      intent jsonb not null,
      created_at timestamptz not null,
      attempts integer not null default 0,
      claimed_until timestamptz null,
      last_error text null
    );`);
    this.addSql('create index job_outbox_job_id_idx on job_outbox (job_id, id);');
  }

  override down(): void {
    this.addSql('drop table if exists job_outbox;');
  }
}
