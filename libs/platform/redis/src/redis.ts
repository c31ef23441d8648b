import Redis from 'ioredis';
import { answersWithin } from '@trigrun/util';

export type RedisClient = Redis;

/**
 * A command waits at most this long for Redis's answer, and a connection attempt at most
 * CONNECT_TIMEOUT_MS: while Redis is away a caller gets an error it can answer with (a 503 at the
 * HTTP edge) instead of a request that waits for ioredis's reconnects (docs/failure-behaviour.md).
 */
export const COMMAND_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 2_000;

/** One client per service. Keys are prefixed with the install's namespace so installs can share a server. */
export function createRedis(url: string, namespace: string): Redis {
  return new Redis(url, {
    keyPrefix: `${namespace}:`,
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectionName: namespace,
  });
}

export async function closeRedis(redis: Redis | undefined): Promise<void> {
  if (!redis || redis.status === 'end') return;
  await redis.quit().catch(() => redis.disconnect());
}

export const isRedisUp = (redis: Redis | undefined): boolean => redis?.status === 'ready';

/** Connected, and a PING answered within `timeoutMs` (readiness: a Redis that stopped answering is down too). */
export async function isRedisReachable(redis: Redis | undefined, timeoutMs: number): Promise<boolean> {
  if (!redis || !isRedisUp(redis)) return false;
  return answersWithin(() => redis.ping(), timeoutMs);
}
