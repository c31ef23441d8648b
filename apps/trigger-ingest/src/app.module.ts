import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@trigrun/nest';
import type { ServiceConfig } from './config';

/**
 * The public, high-volume edge: webhook triggers, resume and approval links, monitor pings. Those endpoints arrive with the workflow and trigger work; until then every public path answers a 404 in the error envelope.
 */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return { module: AppModule, imports: [PlatformModule.forRoot({ service: 'trigger-ingest', config, entities: [] })] };
  }
}
