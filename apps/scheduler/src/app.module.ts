import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@trigrun/nest';
import type { ServiceConfig } from './config';

/**
 * Fires schedules, durable timeouts and heartbeat checks. This build runs one_time jobs only, which need no schedule: the service already holds its connections and health endpoints so that the Kubernetes layout and the local launcher are complete.
 */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return { module: AppModule, imports: [PlatformModule.forRoot({ service: 'scheduler', config, entities: [] })] };
  }
}
