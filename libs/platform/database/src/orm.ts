import { MikroORM, type EntitySchema } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ScrubbingPostgreSqlDriver } from './errors';
import { Migration0001Initial } from './migrations/0001-initial';
import { Migration0002JobLaunchedAt } from './migrations/0002-job-launched-at';
import { Migration0003Secrets } from './migrations/0003-secrets';
import { Migration0004DueJobsIndex } from './migrations/0004-due-jobs-index';
import { Migration0005JobContext } from './migrations/0005-job-context';
import { Migration0006ExecutionSteps } from './migrations/0006-execution-steps';
import { Migration0007TimersAndSlots } from './migrations/0007-timers-and-slots';
import { Migration0008ArmedRuns } from './migrations/0008-armed-runs';
import { Migration0009SlotQueueSequence } from './migrations/0009-slot-queue-sequence';
import { Migration0010ProjectionError } from './migrations/0010-projection-error';
import { Migration0011JobOutbox } from './migrations/0011-job-outbox';
import { Migration0012ConsumerPositions } from './migrations/0012-consumer-positions';
import { answersWithin } from '@trigrun/util';

/** Every migration, in order. Listed explicitly: globs do not survive a build. */
export const MIGRATIONS = [
  { name: '0001-initial', class: Migration0001Initial },
  { name: '0002-job-launched-at', class: Migration0002JobLaunchedAt },
  { name: '0003-secrets', class: Migration0003Secrets },
  { name: '0004-due-jobs-index', class: Migration0004DueJobsIndex },
  { name: '0005-job-context', class: Migration0005JobContext },
  { name: '0006-execution-steps', class: Migration0006ExecutionSteps },
  { name: '0007-timers-and-slots', class: Migration0007TimersAndSlots },
  { name: '0008-armed-runs', class: Migration0008ArmedRuns },
  { name: '0009-slot-queue-sequence', class: Migration0009SlotQueueSequence },
  { name: '0010-projection-error', class: Migration0010ProjectionError },
  { name: '0011-job-outbox', class: Migration0011JobOutbox },
  { name: '0012-consumer-positions', class: Migration0012ConsumerPositions },
];

export interface OrmOptions {
  readonly url: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly entities: EntitySchema<any>[];
  readonly poolMax?: number;
}

/**
 * How long a query waits for a pooled connection, and a new connection for PostgreSQL's answer.
 * Past it the caller gets an error (a 503 at the HTTP edge) instead of waiting in line: with the
 * default 60 s, one stuck dependency used to hold every request of the service
 * (docs/failure-behaviour.md).
 */
export const ACQUIRE_TIMEOUT_MS = 3_000;
export const CONNECT_TIMEOUT_MS = 2_000;

export async function createOrm(opts: OrmOptions): Promise<MikroORM> {
  return MikroORM.init({
    // Errors come out without the SQL and the values it carried (see errors.ts).
    driver: ScrubbingPostgreSqlDriver,
    clientUrl: opts.url,
    entities: opts.entities,
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    migrations: { migrationsList: MIGRATIONS, transactional: true, allOrNothing: true, tableName: 'mikro_orm_migrations', silent: true },
    // Schema changes happen only through migrations, never by sync.
    ensureDatabase: false,
    allowGlobalContext: false,
    pool: { min: 0, max: opts.poolMax ?? 10, acquireTimeoutMillis: ACQUIRE_TIMEOUT_MS },
    driverOptions: { connection: { connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true } },
    // Never on, in any environment: a query log line carries the statement with its parameter
    // values inlined (password hashes, token hashes, context values).
    debug: false,
  });
}

export async function migrate(orm: MikroORM): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}

/** `select 1` answered within `timeoutMs` (readiness: a database that does not answer is down, and the probe never hangs). */
export async function isDatabaseUp(orm: MikroORM | undefined, timeoutMs = 1_000): Promise<boolean> {
  if (!orm) return false;
  return answersWithin(() => orm.em.getConnection().execute('select 1'), timeoutMs);
}
