import type { MikroORM } from '@mikro-orm/postgresql';

/**
 * The consumer_positions table: how far each positioned consumer has read, and the lease that
 * lets one replica read at a time (the PositionStore of @trigrun/messaging, by shape). Every
 * statement is one round trip and touches one row.
 */
export class PgPositionStore {
  constructor(private readonly orm: MikroORM) {}

  async acquire(name: string, holder: string, leaseMs: number): Promise<number | null> {
    const rows = await this.orm.em.fork().execute<{ position: string }[]>(
      `insert into consumer_positions (name, position, holder, lease_until) values (?, 0, ?, now() + ? * interval '1 millisecond')
       on conflict (name) do update set holder = excluded.holder, lease_until = excluded.lease_until
         where consumer_positions.holder = excluded.holder or consumer_positions.lease_until < now()
       returning position`,
      [name, holder, leaseMs],
    );
    return rows.length > 0 ? Number(rows[0].position) : null;
  }

  async advance(name: string, holder: string, position: number, leaseMs: number): Promise<boolean> {
    return this.update(`position = greatest(position, ?)`, name, holder, position, leaseMs);
  }

  async rewind(name: string, holder: string, position: number, leaseMs: number): Promise<boolean> {
    return this.update(`position = ?`, name, holder, position, leaseMs);
  }

  async release(name: string, holder: string): Promise<void> {
    await this.orm.em.fork().execute(`update consumer_positions set lease_until = '-infinity' where name = ? and holder = ?`, [name, holder]);
  }

  private async update(set: string, name: string, holder: string, position: number, leaseMs: number): Promise<boolean> {
    const rows = await this.orm.em.fork().execute<{ name: string }[]>(
      `update consumer_positions set ${set}, lease_until = now() + ? * interval '1 millisecond'
        where name = ? and holder = ? returning name`,
      [position, leaseMs, name, holder],
    );
    return rows.length > 0;
  }
}
