import 'reflect-metadata';
import { Client } from 'pg';
import { parseConfig, platformSchema } from '@trigrun/config';
import { createOrm, migrate } from '@trigrun/database';
import { declareDriveTopology } from '@trigrun/execution-coordination';
import { declareEngineTopology } from '@trigrun/execution-engine';
import { declareReadModelTopology } from '@trigrun/execution-read-model';
import { declareExecutionStreams, topologyOf } from '@trigrun/execution-store';
import { declareNotificationsTopology } from '@trigrun/notifications';
import { declareJobsTopology } from '@trigrun/jobs';
import { closeMessaging, connectMessaging } from '@trigrun/messaging';

/**
 * `npm run migrate` and the Kubernetes migration Job: creates the database if it is missing,
 * applies pending migrations, declares the JetStream streams and consumers. Idempotent.
 */
export async function setup(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = console.log): Promise<void> {
  const config = parseConfig(
    {
      TRIGRUN_DATABASE_URL: platformSchema.TRIGRUN_DATABASE_URL,
      TRIGRUN_NATS_URL: platformSchema.TRIGRUN_NATS_URL,
      TRIGRUN_NAMESPACE: platformSchema.TRIGRUN_NAMESPACE,
      TRIGRUN_JETSTREAM_REPLICAS: platformSchema.TRIGRUN_JETSTREAM_REPLICAS,
      TRIGRUN_ACK_WAIT_MS: platformSchema.TRIGRUN_ACK_WAIT_MS,
      TRIGRUN_EVENT_RETENTION_DAYS: platformSchema.TRIGRUN_EVENT_RETENTION_DAYS,
    },
    env,
  );
  await ensureDatabase(config.TRIGRUN_DATABASE_URL, log);
  const orm = await createOrm({ url: config.TRIGRUN_DATABASE_URL, entities: [], poolMax: 2 });
  try {
    const applied = await migrate(orm);
    log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'migrations: up to date');
  } finally {
    await orm.close(true);
  }
  const messaging = await connectMessaging(config.TRIGRUN_NATS_URL, 'trigrun-setup');
  try {
    // Each lib declares what it owns (libs/executions/store/src/topology.ts says how).
    const topology = topologyOf(config);
    for (const declare of [declareExecutionStreams, declareEngineTopology, declareDriveTopology, declareReadModelTopology, declareNotificationsTopology, declareJobsTopology]) {
      await declare(messaging.jsm, topology);
    }
    log(`streams and consumers declared (namespace ${config.TRIGRUN_NAMESPACE})`);
  } finally {
    await closeMessaging(messaging);
  }
}

async function ensureDatabase(url: string, log: (line: string) => void): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) {
      await client.query(`create database "${name.replace(/"/g, '""')}"`);
      log(`database ${name} created`);
    }
  } finally {
    await client.end();
  }
}

if (require.main === module) {
  setup().catch((error) => {
    console.error(`setup failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
