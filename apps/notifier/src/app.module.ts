import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@trigrun/nest';
import type { ServiceConfig } from './config';

/**
 * Sends notifications and success/failure callbacks. Callbacks and channels arrive with the notification work.
 */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return { module: AppModule, imports: [PlatformModule.forRoot({ service: 'notifier', config, entities: [] })] };
  }
}
