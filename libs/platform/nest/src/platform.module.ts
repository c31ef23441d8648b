import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { EntitySchema } from '@mikro-orm/postgresql';
import { createOrm } from '@trigrun/database';
import { connectMessaging } from '@trigrun/messaging';
import { createRedis } from '@trigrun/redis';
import { HealthController } from './health.controller';
import { CONFIG, Infrastructure, MESSAGING, ORM, REDIS } from './infrastructure';
import { JetStreamTransport } from './jetstream.transport';
import { MetricsController, MetricsListener, MetricsRegistry } from './metrics';

export interface PlatformOptions {
  readonly service: string;
  readonly config: {
    readonly TRIGRUN_DATABASE_URL: string;
    readonly TRIGRUN_NATS_URL: string;
    readonly TRIGRUN_REDIS_URL: string;
    readonly TRIGRUN_NAMESPACE: string;
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly entities: EntitySchema<any>[];
  /**
   * Where GET /metrics is served: on the service's own port (default), or — for the api-gateway,
   * whose port is the public one — on a listener of its own (`{port, host}`), or not at all.
   */
  readonly metrics?: boolean | { readonly port: number; readonly host: string };
}

/** The connections every service holds, plus /healthz and /readyz, and the JetStream transport its consumers define themselves on. */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    const { config, metrics = true } = options;
    const listener = typeof metrics === 'object' ? metrics : undefined;
    return {
      module: PlatformModule,
      controllers: metrics === true ? [HealthController, MetricsController] : [HealthController],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: ORM, useFactory: () => createOrm({ url: config.TRIGRUN_DATABASE_URL, entities: options.entities }) },
        { provide: MESSAGING, useFactory: () => connectMessaging(config.TRIGRUN_NATS_URL, options.service) },
        {
          provide: REDIS,
          useFactory: async () => {
            const redis = createRedis(config.TRIGRUN_REDIS_URL, config.TRIGRUN_NAMESPACE);
            await redis.connect();
            return redis;
          },
        },
        Infrastructure,
        MetricsRegistry,
        JetStreamTransport,
        ...(listener ? [{ provide: MetricsListener, inject: [MetricsRegistry], useFactory: (r: MetricsRegistry) => new MetricsListener(r, listener.port, listener.host) }] : []),
      ],
      exports: [CONFIG, ORM, MESSAGING, REDIS, Infrastructure, MetricsRegistry, JetStreamTransport],
    };
  }
}
