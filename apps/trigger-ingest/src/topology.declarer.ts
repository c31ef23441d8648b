import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { topologyOf } from '@trigrun/execution-store';
import type { Messaging } from '@trigrun/messaging';
import { InjectConfig, InjectMessaging } from '@trigrun/nest';
import type { ServiceConfig } from './config';
import { declareExecutionStreams } from '@trigrun/execution-store';

/** Like every service, declares the streams at boot (idempotent), so a link opened before any other service started reads an empty stream instead of failing. */
@Injectable()
export class TopologyDeclarer implements OnApplicationBootstrap {
  constructor(
    @InjectMessaging() private readonly messaging: Messaging,
    @InjectConfig() private readonly config: ServiceConfig,
  ) {}

  onApplicationBootstrap(): Promise<void> {
    return declareExecutionStreams(this.messaging.jsm, topologyOf(this.config));
  }
}
