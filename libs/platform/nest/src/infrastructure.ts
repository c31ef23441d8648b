import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { MikroORM } from '@mikro-orm/postgresql';
import { closeMessaging, isMessagingUp, type Messaging } from '@trigrun/messaging';
import { closeRedis, isRedisUp, type RedisClient } from '@trigrun/redis';
import { isDatabaseUp } from '@trigrun/database';

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

  async readiness(): Promise<{ ready: boolean; checks: Record<string, 'up' | 'down'> }> {
    const checks = {
      nats: isMessagingUp(this.messaging) ? 'up' : 'down',
      postgres: (await isDatabaseUp(this.orm)) ? 'up' : 'down',
      redis: isRedisUp(this.redis) ? 'up' : 'down',
    } as const;
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
