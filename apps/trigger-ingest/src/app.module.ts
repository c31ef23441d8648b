import { type DynamicModule, Module } from '@nestjs/common';
import { requestPathExecutionStore } from '@trigrun/execution-store';
import { Waitpoints } from '@trigrun/execution-waitpoints';
import type { Messaging } from '@trigrun/messaging';
import { MESSAGING, PlatformModule } from '@trigrun/nest';
import { ApprovalsController } from './approvals.controller';
import type { ServiceConfig } from './config';
import { ResumeController } from './resume.controller';
import { TopologyDeclarer } from './topology.declarer';

/**
 * The public, high-volume edge: token-bearing URLs that need no account. Serves the resume URLs
 * of parked `wait_for_webhook` steps and the approval review page with its approve/reject posts
 * (docs/workflows.md); webhook triggers and monitor pings arrive with their own work and, until then,
 * answer a 404 in the error envelope. Tokens are checked against their SHA-256 in the execution's
 * events, so this service needs NATS but not the master key; the logic lives in
 * @trigrun/execution-engine (Waitpoints) and @trigrun/review-page, the controllers only map
 * outcomes to HTTP.
 */
@Module({})
export class AppModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot({ service: 'trigger-ingest', config, entities: [] })],
      controllers: [ResumeController, ApprovalsController],
      providers: [
        TopologyDeclarer,
        {
          provide: Waitpoints,
          inject: [MESSAGING],
          useFactory: async (messaging: Messaging) => new Waitpoints(await requestPathExecutionStore(messaging, config.TRIGRUN_NAMESPACE), () => new Date()),
        },
      ],
    };
  }
}
