import { randomBytes } from 'node:crypto';
import { Module } from '@nestjs/common';
import Redis from 'ioredis';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ErrorEnvelopeFilter } from '@trigrun/nest';
import { type RedisClient, closeRedis, createRedis } from '@trigrun/redis';
import { RateLimits } from './rate-limits';

@Module({})
class EmptyModule {}

/**
 * Two "replicas" of a service, each with its own Redis client, count into the same windows of
 * the real local Redis; the answer past the limit is the 429 envelope with the headers.
 */
describe('RateLimits', () => {
  const namespace = `rl${randomBytes(4).toString('hex')}`;
  const clients: RedisClient[] = [];
  const apps: NestFastifyApplication[] = [];

  async function replica(max: number, windowMs: number): Promise<NestFastifyApplication> {
    const redis = createRedis(process.env.TRIGRUN_REDIS_URL ?? 'redis://127.0.0.1:6379', namespace);
    await redis.connect();
    clients.push(redis);
    const app = await NestFactory.create<NestFastifyApplication>(EmptyModule, new FastifyAdapter(), { logger: false });
    app.useGlobalFilters(new ErrorEnvelopeFilter());
    const fastify = app.getHttpAdapter().getInstance();
    const limits = new RateLimits(redis);
    await limits.install(fastify);
    const perCaller = limits.limiter('per_caller', { max, windowMs }, (req) => req.headers['x-caller'] as string | undefined);
    const tight = limits.limiter('tight', { max: 2, windowMs }, (req) => (req.headers['x-tight'] ? 'one' : undefined));
    fastify.addHook('onRequest', async (req, reply) => {
      await perCaller.consume(req, reply);
      await tight.consume(req, reply);
    });
    fastify.get('/thing', async () => ({ ok: true }));
    await app.init();
    apps.push(app);
    return app;
  }

  afterAll(async () => {
    for (const app of apps) await app.close();
    const keys = await clients[0].keys(`${namespace}:*`);
    if (keys.length) await clients[0].del(...keys.map((k) => k.slice(namespace.length + 1)));
    for (const redis of clients) await closeRedis(redis);
  });

  it('shares one window across replicas and answers past it with the 429 envelope, Retry-After and x-ratelimit-*', async () => {
    const [a, b] = [await replica(5, 60_000), await replica(5, 60_000)];
    const caller = { 'x-caller': 'alice' };
    const statuses: number[] = [];
    for (const app of [a, b, a, b, a]) statuses.push((await app.inject({ method: 'GET', url: '/thing', headers: caller })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);

    const ok = await a.inject({ method: 'GET', url: '/thing', headers: { 'x-caller': 'bob' } });
    expect(ok.headers).toMatchObject({ 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '4' });
    expect(Number(ok.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(59);

    const refused = await b.inject({ method: 'GET', url: '/thing', headers: caller });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toMatch(/application\/json/);
    expect(refused.headers).toMatchObject({ 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0' });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers['x-ratelimit-reset']).toBe(String(retryAfter));
    expect(refused.json()).toEqual({
      error: {
        code: 'rate_limited',
        message: expect.stringMatching(/per_caller: 5 per minute.*retry in \d+ s/),
        details: { limit: 'per_caller', max: 5, window_seconds: 60, retry_after_seconds: retryAfter },
      },
    });
  });

  it('shows the tightest of the limits a request passed, and keys outside the limit are not counted', async () => {
    const app = await replica(100, 60_000);
    const first = await app.inject({ method: 'GET', url: '/thing', headers: { 'x-caller': 'carol', 'x-tight': '1' } });
    expect(first.headers).toMatchObject({ 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '1' });
    const uncounted = await app.inject({ method: 'GET', url: '/thing' });
    expect(uncounted.statusCode).toBe(200);
    expect(uncounted.headers['x-ratelimit-limit']).toBeUndefined();
    await app.inject({ method: 'GET', url: '/thing', headers: { 'x-caller': 'dave', 'x-tight': '1' } });
    const third = await app.inject({ method: 'GET', url: '/thing', headers: { 'x-caller': 'erin', 'x-tight': '1' } });
    expect(third.statusCode).toBe(429);
    expect(third.json().error.details.limit).toBe('tight');
  });

  it('opens a new window once the old one has passed', async () => {
    const app = await replica(1, 1_000);
    const caller = { 'x-caller': 'frank' };
    expect((await app.inject({ method: 'GET', url: '/thing', headers: caller })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/thing', headers: caller })).statusCode).toBe(429);
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await app.inject({ method: 'GET', url: '/thing', headers: caller })).statusCode).toBe(200);
  });

  it('keeps its keys under <namespace>:rl:<limit>:', async () => {
    const keys = await clients[0].keys(`${namespace}:rl:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => /^rl[0-9a-f]+:rl:(per_caller|tight):[^:]+$/.test(k))).toBe(true);
  });

  it('lets requests through when Redis cannot be reached (fail open)', async () => {
    // Nothing listens on port 1; no reconnecting, so the spec leaves no timer behind.
    const unreachable = new Redis('redis://127.0.0.1:1', { lazyConnect: true, keyPrefix: `${namespace}:`, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const app = await NestFactory.create<NestFastifyApplication>(EmptyModule, new FastifyAdapter(), { logger: false });
    app.useGlobalFilters(new ErrorEnvelopeFilter());
    const fastify = app.getHttpAdapter().getInstance();
    const limits = new RateLimits(unreachable);
    await limits.install(fastify);
    const limiter = limits.limiter('down', { max: 1, windowMs: 60_000 }, () => 'k');
    fastify.addHook('onRequest', (req, reply) => limiter.consume(req, reply));
    fastify.get('/thing', async () => ({ ok: true }));
    await app.init();
    try {
      for (let i = 0; i < 3; i++) {
        const res = await app.inject({ method: 'GET', url: '/thing' });
        expect(res.statusCode).toBe(200);
        expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      }
    } finally {
      await app.close();
      await closeRedis(unreachable);
    }
  });
});
