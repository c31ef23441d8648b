import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { MikroORM } from '@mikro-orm/postgresql';
import { closeMessaging, isMessagingReachable, type Messaging } from '@trigrun/messaging';
import { closeRedis, isRedisReachable, type RedisClient } from '@trigrun/redis';
import { isDatabaseUp } from '@trigrun/database';

/** How long readiness waits for each dependency's answer. */
export const READINESS_PROBE_MS = 1_000;

export const ORM = Symbol('ORM');
export const MESSAGING = Symbol('MESSAGING');
export const REDIS = Symbol('REDIS');
export const CONFIG = Symbol('CONFIG');

export const InjectOrm = () => Inject(ORM);
export const InjectMessaging = () => Inject(MESSAGING);
export const InjectRedis = () => Inject(REDIS);
export const InjectConfig = () => Inject(CONFIG);

/** Owns the three connections: readiness reports on them, shutdown closes them last. */
@Injectable()
export class Infrastructure implements OnApplicationShutdown {
  private readonly logger = new Logger('infrastructure');
  private shuttingDown = false;

  constructor(
    @InjectOrm() readonly orm: MikroORM,
    @InjectMessaging() readonly messaging: Messaging,
    @InjectRedis() readonly redis: RedisClient,
  ) {}

  markShuttingDown() {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Each dependency answers one round trip (NATS PING, `select 1`, Redis PING) within
   * READINESS_PROBE_MS, all at once: the answer is true, and comes within about that bound
   * whatever is down or silent (a load balancer's probe never hangs).
   */
  async readiness(): Promise<{ ready: boolean; checks: Record<string, 'up' | 'down'> }> {
    const [nats, postgres, redis] = await Promise.all([
      isMessagingReachable(this.messaging, READINESS_PROBE_MS),
      isDatabaseUp(this.orm, READINESS_PROBE_MS),
      isRedisReachable(this.redis, READINESS_PROBE_MS),
    ]);
    const checks = { nats: nats ? 'up' : 'down', postgres: postgres ? 'up' : 'down', redis: redis ? 'up' : 'down' } as const;
    const ready = !this.shuttingDown && Object.values(checks).every((c) => c === 'up');
    return { ready, checks };
  }

  async onApplicationShutdown(): Promise<void> {
    await closeMessaging(this.messaging);
    await closeRedis(this.redis);
    await this.orm.close(true);
    this.logger.log('connections closed');
  }
}
