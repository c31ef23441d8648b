import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ACCOUNT_ENTITIES, ACCOUNTS_CONFIG, AccountsService, AuthGuard } from '@trigrun/accounts';
import { ExecutionStore, requestPathExecutionStore } from '@trigrun/execution-store';
import { JOB_ENTITIES, JobOutbox, JobOutboxRelay, JobsService } from '@trigrun/jobs';
import type { Messaging } from '@trigrun/messaging';
import { MESSAGING, PlatformModule, REDIS } from '@trigrun/nest';
import { RateLimits } from '@trigrun/rate-limits';
import type { RedisClient } from '@trigrun/redis';
import { SECRET_ENTITIES, secretsProviders } from '@trigrun/secrets';
import { AuthController } from './auth.controller';
import type { ApiGatewayConfig } from './config';
import { ExecutionsController, executionQueriesProvider } from './executions.controller';
import { JobContextController, jobContextProviders } from './job-context.controller';
import { JobsController } from './jobs.controller';
import { GatewayLimits } from './limits';
import { MembersController } from './members.controller';
import { ReadModelConsumer } from './read-model.consumer';
import { SecretsController } from './secrets.controller';

@Module({})
export class AppModule {
  static forRoot(config: ApiGatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          service: 'api-gateway',
          // Its port is the public one: /metrics only on a listener of its own, when configured.
          metrics: config.TRIGRUN_METRICS_PORT > 0 ? { port: config.TRIGRUN_METRICS_PORT, host: config.TRIGRUN_METRICS_HOST } : false,
          config,
          entities: [...ACCOUNT_ENTITIES, ...JOB_ENTITIES, ...SECRET_ENTITIES],
        }),
      ],
      // ReadModelConsumer is an @EventPattern handler on the JetStream transport, not an HTTP route.
      controllers: [AuthController, MembersController, JobsController, JobContextController, ExecutionsController, SecretsController, ReadModelConsumer],
      providers: [
        { provide: ACCOUNTS_CONFIG, useValue: { jwtSecret: config.TRIGRUN_JWT_SECRET, signupEnabled: config.TRIGRUN_SIGNUP_ENABLED } },
        AccountsService,
        { provide: APP_GUARD, useClass: AuthGuard },
        {
          provide: ExecutionStore,
          inject: [MESSAGING],
          useFactory: (messaging: Messaging) => requestPathExecutionStore(messaging, config.TRIGRUN_NAMESPACE),
        },
        executionQueriesProvider(config),
        JobsService,
        JobOutbox,
        JobOutboxRelay,
        ...jobContextProviders,
        ...secretsProviders(config),
        { provide: GatewayLimits, inject: [REDIS], useFactory: (redis: RedisClient) => new GatewayLimits(config, new RateLimits(redis)) },
      ],
    };
  }
}
