import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule } from '@trigrun/nest';
import type { ServiceConfig } from './config';
import { JobsReactionConsumer } from './jobs-reaction.consumer';
import { SchedulerLoop } from './scheduler.loop';

/**
 * Fires recurring, cron and scheduled jobs on time, and execution timers (step and workflow
 * deadlines); hosts the jobs reaction (what executions do to their job).
 */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ service: 'scheduler', config, entities: [] })],
      controllers: [JobsReactionConsumer],
      providers: [SchedulerLoop],
    };
  }
}
