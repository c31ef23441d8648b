import { Controller, type DynamicModule, Get, type INestApplication, Module } from '@nestjs/common';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createScratchDatabase, type ScratchDatabase, startTcpRelay, type TcpRelay } from '@trigrun/database/testing';
import { connectMessaging, type Messaging } from '@trigrun/messaging';
import type { RedisClient } from '@trigrun/redis';
import { randomBytes } from 'node:crypto';
import { bootstrapService } from './bootstrap';
import { Infrastructure, InjectMessaging, InjectOrm, InjectRedis } from './infrastructure';
import { PlatformModule } from './platform.module';

/**
 * What a client sees while a dependency is away (issue 10), over HTTP against a real service
 * booted as every service is (bootstrapService, PlatformModule), its PostgreSQL, NATS and Redis
 * connections each going through a TCP relay the test cuts and restores: a 503 `unavailable` in
 * the envelope with Retry-After, never a 500; a /readyz that turns false within a bound and never
 * hangs; a stopping instance answering in the envelope.
 */
const ADMIN_URL = process.env.TRIGRUN_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env.TRIGRUN_REDIS_URL ?? 'redis://127.0.0.1:6379';

@Controller('probe')
class ProbeController {
  constructor(
    @InjectOrm() private readonly orm: MikroORM,
    @InjectRedis() private readonly redis: RedisClient,
    @InjectMessaging() private readonly messaging: Messaging,
  ) {}

  @Get('db')
  async db() {
    await this.orm.em.fork().execute('select 1');
    return { ok: true };
  }

  @Get('redis')
  async redisProbe() {
    await this.redis.get('probe');
    return { ok: true };
  }

  @Get('nats')
  async nats() {
    // A request somebody answers: the test's own responder, straight on the server.
    await this.messaging.nc.request(`${this.redis.options.keyPrefix}echo`, 'x', { timeout: 2_000 });
    return { ok: true };
  }

  @Get('slow')
  async slow() {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { ok: true };
  }
}

const relayTo = (url: string, port: number) => {
  const u = new URL(url);
  return startTcpRelay(u.hostname, Number(u.port || port));
};

describe('a service while a dependency is away (real PostgreSQL, NATS and Redis through relays)', () => {
  const namespace = `out${randomBytes(4).toString('hex')}`;
  let db: ScratchDatabase;
  let pg: TcpRelay;
  let nats: TcpRelay;
  let redis: TcpRelay;
  let app: INestApplication;
  let base: string;
  let responder: Messaging;

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, []);
    [pg, nats, redis] = await Promise.all([relayTo(db.url, 5432), relayTo(NATS_URL, 4222), relayTo(REDIS_URL, 6379)]);
    @Module({})
    class ProbeModule {
      static forRoot(): DynamicModule {
        return {
          module: ProbeModule,
          imports: [
            PlatformModule.forRoot({
              service: 'outage-spec',
              metrics: false,
              entities: [],
              config: { TRIGRUN_DATABASE_URL: pg.urlFor(db.url), TRIGRUN_NATS_URL: nats.urlFor(NATS_URL), TRIGRUN_REDIS_URL: redis.urlFor(REDIS_URL), TRIGRUN_NAMESPACE: namespace },
            }),
          ],
          controllers: [ProbeController],
        };
      }
    }
    app = await bootstrapService({ name: 'outage-spec', module: ProbeModule.forRoot(), config: { PORT: 0, HOST: '127.0.0.1', TRIGRUN_LOG_LEVEL: 'error', TRIGRUN_PRETTY_LOGS: false } });
    base = await app.getUrl();
    responder = await connectMessaging(NATS_URL, 'outage-spec-responder');
    responder.nc.subscribe(`${namespace}:echo`, { callback: (_e, m) => void m.respond('ok') });
    await responder.nc.flush();
  });

  afterAll(async () => {
    process.removeAllListeners('SIGTERM');
    process.removeAllListeners('SIGINT');
    await Promise.all([pg.restore(), nats.restore(), redis.restore()]);
    await app?.close();
    await responder?.nc.close();
    await Promise.all([pg.close(), nats.close(), redis.close()]);
    await db.dispose();
  });

  const get = async (path: string) => {
    const started = Date.now();
    const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(15_000) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null, ms: Date.now() - started };
  };

  const eventually = async (check: () => Promise<boolean>, timeoutMs: number, what: string) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const expectUnavailable = (answer: Awaited<ReturnType<typeof get>>, dependency: string) => {
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('5');
    expect(answer.body).toEqual({
      error: { code: 'unavailable', message: expect.stringMatching(/unavailable/), details: { dependency, retry_after_seconds: 5 } },
    });
  };

  it('is ready while everything answers', async () => {
    expect(await get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready', checks: { nats: 'up', postgres: 'up', redis: 'up' } } });
    for (const path of ['/probe/db', '/probe/redis', '/probe/nats']) expect(await get(path)).toMatchObject({ status: 200 });
  });

  it('answers 503 unavailable with Retry-After, never a 500, while PostgreSQL is away, and is not ready until it is back', async () => {
    await pg.cut();
    const answers = await Promise.all(Array.from({ length: 12 }, () => get('/probe/db')));
    for (const answer of answers) {
      expectUnavailable(answer, 'postgres');
      // Within the pool's acquire bound, not the 60 s knex waits by default.
      expect(answer.ms).toBeLessThan(4_000);
    }
    const ready = await get('/readyz');
    expect(ready).toMatchObject({ status: 503, body: { status: 'not_ready', checks: { postgres: 'down', nats: 'up', redis: 'up' } } });
    expect(ready.ms).toBeLessThan(1_500);
    await pg.restore();
    await eventually(async () => (await get('/readyz')).status === 200, 10_000, 'ready again');
    expect(await get('/probe/db')).toMatchObject({ status: 200 });
  }, 40_000);

  it('answers 503 while NATS is away, and /readyz turns false at once and answers quickly', async () => {
    await nats.cut();
    const started = Date.now();
    await eventually(async () => (await get('/readyz')).status === 503, 3_000, 'not ready');
    expect(Date.now() - started).toBeLessThan(3_000);
    const ready = await get('/readyz');
    expect(ready).toMatchObject({ body: { checks: { nats: 'down', postgres: 'up', redis: 'up' } } });
    expect(ready.ms).toBeLessThan(1_500);
    expectUnavailable(await get('/probe/nats'), 'nats');
    // What does not need the broker does not wait for it.
    const db = await get('/probe/db');
    expect(db).toMatchObject({ status: 200 });
    expect(db.ms).toBeLessThan(500);
    await nats.restore();
    await eventually(async () => (await get('/readyz')).status === 200, 15_000, 'ready again');
  }, 40_000);

  it('turns /readyz false within its bound when NATS stops answering without closing (a frozen server)', async () => {
    nats.freeze();
    const ready = await get('/readyz');
    expect(ready).toMatchObject({ status: 503, body: { checks: { nats: 'down' } } });
    expect(ready.ms).toBeLessThan(1_500);
    await nats.restore();
    await eventually(async () => (await get('/readyz')).status === 200, 20_000, 'ready again');
  }, 40_000);

  it('answers 503 while Redis is away, and is not ready until it is back', async () => {
    await redis.cut();
    await eventually(async () => (await get('/readyz')).status === 503, 3_000, 'not ready');
    const answer = await get('/probe/redis');
    expectUnavailable(answer, 'redis');
    expect(answer.ms).toBeLessThan(3_000);
    await redis.restore();
    await eventually(async () => (await get('/readyz')).status === 200, 15_000, 'ready again');
  }, 40_000);

  it('answers in the envelope with Retry-After once it is shutting down, and reports not ready', async () => {
    const running = get('/probe/slow');
    await new Promise((resolve) => setTimeout(resolve, 50));
    app.get(Infrastructure).markShuttingDown();
    const refused = await get('/probe/db');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('connection')).toBe('close');
    expect(refused.body).toEqual({ error: { code: 'unavailable', message: expect.stringMatching(/shutting down/), details: { retry_after_seconds: 1 } } });
    expect(await get('/readyz')).toMatchObject({ status: 503, body: { status: 'not_ready' } });
    // What was already running finishes.
    expect(await running).toMatchObject({ status: 200 });
  });
});
