import { Migration } from '@mikro-orm/migrations';

/**
 * Where each positioned consumer has read its stream up to, and which replica reads on
 * (PgPositionStore, @trigrun/messaging PositionedConsumerRunner). `lease_until` is a lease, not a
 * lock: correctness never depends on it, it only keeps two replicas from doing the work twice.
 */
export class Migration0012ConsumerPositions extends Migration {
  override up(): void {
    this.addSql(`create table consumer_positions (
      name text primary key,
      position bigint not null default 0,
      holder text null,
      lease_until timestamptz not null default '-infinity'
    );`);
  }

  override down(): void {
    this.addSql('drop table if exists consumer_positions;');
  }
}
