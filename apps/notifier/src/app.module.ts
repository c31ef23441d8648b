import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@trigrun/nest';
import { CallbacksConsumer } from './callbacks.consumer';
import type { ServiceConfig } from './config';

/** Sends success/failure callbacks now; notification channels and rules arrive with the notification work. */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ service: 'notifier', config, entities: [] })],
      // The consumer is a controller: an @EventPattern handler on the JetStream transport.
      controllers: [CallbacksConsumer],
    };
  }
}
