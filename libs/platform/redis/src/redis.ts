import Redis from 'ioredis';

export type RedisClient = Redis;

/** One client per service. Keys are prefixed with the install's namespace so installs can share a server. */
export function createRedis(url: string, namespace: string): Redis {
  return new Redis(url, {
    keyPrefix: `${namespace}:`,
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectionName: namespace,
  });
}

export async function closeRedis(redis: Redis | undefined): Promise<void> {
  if (!redis || redis.status === 'end') return;
  await redis.quit().catch(() => redis.disconnect());
}

export const isRedisUp = (redis: Redis | undefined): boolean => redis?.status === 'ready';
