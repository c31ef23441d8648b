import { randomUUID } from 'node:crypto';
import type { EntitySchema, MikroORM } from '@mikro-orm/postgresql';
import { createOrm, migrate } from '../orm';
import { Client } from 'pg';

export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  readonly orm: MikroORM;
  /** A plain connection beside the ORM: what a test asserts on is the stored row, not the ORM's idea of it. */
  readonly sql: Client;
  dispose(): Promise<void>;
}

/**
 * A freshly migrated database owned by one spec file, so specs run in parallel and leave nothing
 * behind. `adminUrl` must point at a database the role may connect to while creating another.
 */
export async function createScratchDatabase(
  adminUrl: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  entities: EntitySchema<any>[],
): Promise<ScratchDatabase> {
  const name = `trigrun_it_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await withAdmin(adminUrl, (admin) => admin.query(`create database "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let orm: MikroORM | undefined;
  let sql: Client | undefined;
  const dispose = async () => {
    await sql?.end().catch(() => undefined);
    await orm?.close(true).catch(() => undefined);
    await withAdmin(adminUrl, (admin) => admin.query(`drop database if exists "${name}" with (force)`));
  };
  try {
    orm = await createOrm({ url: url.toString(), entities });
    await migrate(orm);
    sql = new Client({ connectionString: url.toString() });
    await sql.connect();
    return { name, url: url.toString(), orm, sql, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

async function withAdmin<T>(adminUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
