import { randomBytes } from 'node:crypto';
import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { lastValueFrom, defer } from 'rxjs';
import { createScratchDatabase, type ScratchDatabase } from '@trigrun/database/testing';
import { JOB_ENTITIES } from '@trigrun/jobs';
import { RateLimits } from '@trigrun/rate-limits';
import { type RedisClient, closeRedis, createRedis } from '@trigrun/redis';
import { loadConfig } from './config';
import { GatewayLimits, JobsQuota } from './limits';

const ADMIN_URL = process.env.TRIGRUN_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TRIGRUN_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The jobs quota against the real PostgreSQL and Redis, with two gateway "replicas" (each its own
 * Redis client) and creates that take a while between the quota check and their insert, as a
 * create does (validation, a transaction, the first execution's event): counting rows alone would
 * let every create racing for the last place through.
 */
describe('JobsQuota (real PostgreSQL and Redis)', () => {
  const namespace = `quota${randomBytes(4).toString('hex')}`;
  let db: ScratchDatabase;
  const clients: RedisClient[] = [];
  let replicas: JobsQuota[];
  let workspaceId: string;

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, JOB_ENTITIES);
    const config = loadConfig({ TRIGRUN_JWT_SECRET: 'j'.repeat(32), TRIGRUN_MASTER_KEY: randomBytes(32).toString('base64'), TRIGRUN_QUOTA_JOBS: '3' });
    replicas = [];
    for (let i = 0; i < 2; i++) {
      const redis = createRedis(REDIS_URL, namespace);
      await redis.connect();
      clients.push(redis);
      replicas.push(new JobsQuota(new GatewayLimits(config, new RateLimits(redis)), db.orm, redis));
    }
  });

  afterAll(async () => {
    const keys = await clients[0].keys(`${namespace}:*`);
    if (keys.length) await clients[0].del(...keys.map((k) => k.slice(namespace.length + 1)));
    for (const redis of clients) await closeRedis(redis);
    await db.dispose();
  });

  beforeEach(async () => {
    workspaceId = `ws_${randomBytes(6).toString('hex')}`;
    await db.sql.query("insert into workspaces (id, name, timezone, created_at) values ($1, 'w', 'UTC', now())", [workspaceId]);
  });

  const insertJob = () =>
    db.sql.query(
      `insert into jobs (id, workspace_id, name, kind, state, steps, retry_policy, max_concurrent_executions, created_at, updated_at)
       values ($1, $2, 'wf', 'workflow', 'draft', '[]', '{"max_attempts":3,"retry_on_statuses":[]}', 1, now(), now())`,
      [`job_${randomBytes(8).toString('hex')}`, workspaceId],
    );
  const jobCount = async () => Number((await db.sql.query('select count(*) from jobs where workspace_id = $1 and deleted_at is null', [workspaceId])).rows[0].count);
  const context = () => ({ switchToHttp: () => ({ getRequest: () => ({ principal: { userId: 'u', workspaceId, role: 'owner', via: 'jwt' } }) }) }) as unknown as ExecutionContext;
  /** A create through replica `i`: the quota check, then `work` as the handler. */
  const create = (i: number, work: () => Promise<unknown>) => lastValueFrom(replicas[i % 2].intercept(context(), { handle: () => defer(work) } as CallHandler));
  const slowInsert = async () => {
    await new Promise((r) => setTimeout(r, 50));
    await insertJob();
    return 'created';
  };

  it('lets exactly one of twenty creates racing for the last place through, across replicas', async () => {
    await insertJob();
    await insertJob();
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => create(i, slowInsert)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refusals = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason);
    expect(refusals).toHaveLength(19);
    expect(refusals.every((e) => e.code === 'quota_exceeded' && e.status === 403)).toBe(true);
    expect(await jobCount()).toBe(3);
    expect(await clients[0].get(`quota:jobs:${workspaceId}:creating`)).toBe('0');
  });

  it('gives the place back when a create fails, and counts deleted jobs out', async () => {
    await insertJob();
    await insertJob();
    await expect(create(0, () => Promise.reject(new Error('validation failed')))).rejects.toThrow('validation failed');
    await expect(create(1, slowInsert)).resolves.toBe('created');
    await expect(create(0, slowInsert)).rejects.toMatchObject({ code: 'quota_exceeded', details: { quota: 'jobs', limit: 3, current: 3 } });
    await db.sql.query('update jobs set deleted_at = now() where id = (select id from jobs where workspace_id = $1 limit 1)', [workspaceId]);
    await expect(create(1, slowInsert)).resolves.toBe('created');
    expect(await jobCount()).toBe(3);
  });
});
