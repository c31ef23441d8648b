import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@trigrun/nest';
import { SECRET_ENTITIES, secretsProviders } from '@trigrun/secrets';
import type { StepRunnerConfig } from './config';
import { DriveConsumer } from './drive.consumer';
import { EngineConsumer, executionEngineProvider } from './engine.consumer';

@Module({})
export class AppModule {
  static forRoot(config: StepRunnerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ service: 'step-runner', config, entities: [...SECRET_ENTITIES] })],
      // The consumers are controllers: @EventPattern handlers on the JetStream transport.
      controllers: [EngineConsumer, DriveConsumer],
      providers: [...secretsProviders(config), executionEngineProvider],
    };
  }
}
