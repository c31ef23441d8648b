import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import rateLimitPlugin, { type FastifyRateLimitStore, normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RedisClient } from '@trigrun/redis';
import { DomainError } from '@trigrun/util';
import { type RateLimit, describeLimit } from './limit';

// The plugin's Redis store (one Lua script: INCR, and PEXPIRE on the first hit) is what we want,
// but its child stores prefix every key with the route's method and URL, which a limiter made by
// createRateLimit() does not have ("undefinedundefined-"). This wrapper keeps the script and
// drops the prefix; the module has no typings of its own.
const RedisStore = require('@fastify/rate-limit/store/RedisStore') as new (continueExceeding: boolean, exponentialBackoff: boolean, redis: RedisClient, key: string) => FastifyRateLimitStore;

/** Redis keys: `<namespace>:rl:<limit name>:<key>` (the client adds the namespace). */
const KEY_PREFIX = 'rl:';

function storeOn(redis: RedisClient) {
  return class PrefixedRedisStore implements FastifyRateLimitStore {
    private readonly inner = new RedisStore(false, false, redis, KEY_PREFIX);
    incr(key: string, callback: Parameters<FastifyRateLimitStore['incr']>[1], timeWindow: number, max: number): void {
      this.inner.incr(key, callback, timeWindow, max);
    }
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

/** The x-ratelimit-* headers a reply carries: the tightest of the limits the request passed. */
const shownRemaining = new WeakMap<FastifyReply, number>();

type Check = ReturnType<FastifyInstance['createRateLimit']>;

/**
 * Fixed-window request limits kept in Redis, so every replica counts into the same windows.
 * Counting is @fastify/rate-limit's (its Redis store and `createRateLimit`); this class only
 * decides the keys, the headers when several limits apply to one request, and the answer:
 * a `rate_limited` DomainError, which the error filter answers as a 429 in the envelope with
 * `Retry-After`.
 */
export class RateLimits {
  private fastify: FastifyInstance | undefined;
  private readonly logger = new Logger('rate-limits');

  constructor(private readonly redis: RedisClient) {}

  /** Registers the plugin on the server; limiters work from then on. */
  async install(fastify: FastifyInstance): Promise<void> {
    await fastify.register(rateLimitPlugin, { global: false, store: storeOn(this.redis), skipOnError: false });
    this.fastify = fastify;
  }

  /**
   * A limiter named `name` (part of the Redis key and of the 429's details). `null` limits
   * nothing. `keyOf` says whose budget a request spends; `undefined` means it is not counted.
   */
  limiter(name: string, limit: RateLimit | null, keyOf: (req: FastifyRequest) => string | undefined): Limiter {
    return new Limiter(name, limit, keyOf, () => {
      if (!this.fastify) throw new Error('RateLimits.install() has not run');
      return this.fastify;
    }, this.logger);
  }
}

export class Limiter {
  private check: Check | undefined;
  private lastWarnedAt = 0;

  constructor(
    readonly name: string,
    readonly limit: RateLimit | null,
    private readonly keyOf: (req: FastifyRequest) => string | undefined,
    private readonly fastify: () => FastifyInstance,
    private readonly logger: Logger,
  ) {}

  /** Counts the request; throws the 429 once its budget is spent. */
  async consume(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!this.limit) return;
    const key = this.keyOf(req);
    if (key === undefined) return;
    const { max, windowMs } = this.limit;
    this.check ??= this.fastify().createRateLimit({ max, timeWindow: windowMs, keyGenerator: (r) => `${this.name}:${this.keyOf(r)}` });
    let outcome: Awaited<ReturnType<Check>>;
    try {
      outcome = await this.check(req);
    } catch (error) {
      // Fail open: a Redis outage must not take the API down with it (readiness reports Redis).
      // One line per limit and 10 s, not one per request.
      if (Date.now() - this.lastWarnedAt > 10_000) {
        this.lastWarnedAt = Date.now();
        this.logger.warn(`limit ${this.name} not checked (requests pass meanwhile): ${(error as Error).message}`);
      }
      return;
    }
    if (outcome.isAllowed) return;
    const resetSeconds = Math.max(1, outcome.ttlInSeconds);
    if (outcome.isExceeded) {
      reply.header('x-ratelimit-limit', max).header('x-ratelimit-remaining', 0).header('x-ratelimit-reset', resetSeconds).header('retry-after', resetSeconds);
      shownRemaining.set(reply, 0);
      // The refusal carries its own wait as well: the error filter sends it as the same Retry-After
      // the reply already has, and a caller that is not fastify's reply still learns it.
      throw new DomainError(
        'rate_limited',
        `Too many requests (${this.name}: ${describeLimit(this.limit)}); retry in ${resetSeconds} s`,
        { limit: this.name, max, window_seconds: Math.round(windowMs / 1000), retry_after_seconds: resetSeconds },
        resetSeconds,
      );
    }
    const shown = shownRemaining.get(reply);
    if (shown === undefined || outcome.remaining < shown) {
      reply.header('x-ratelimit-limit', max).header('x-ratelimit-remaining', outcome.remaining).header('x-ratelimit-reset', resetSeconds);
      shownRemaining.set(reply, outcome.remaining);
    }
  }
}

/** A key for a value the client chose (an e-mail, a token): fixed length, and not stored in clear. */
export const hashedKey = (value: string): string => createHash('sha256').update(value).digest('base64url');

/** A key for an address: IPv6 addresses count per /64, as one host usually holds the whole prefix. */
export const addressKey = (address: string): string => normalizeIP(address);
