import type { JetStreamManager } from '@nats-io/jetstream';
import { declareDriveTopology } from '@trigrun/execution-coordination';
import { declareEngineTopology } from '@trigrun/execution-engine';
import type { TopologyOptions } from '@trigrun/execution-store';
import { declareNotificationsTopology } from '@trigrun/notifications';

/**
 * What the step-runner reads and writes: the engine's consumer of execution events, the sweeper's
 * drive commands it carries out, and the callback stream its terminal deliveries publish to.
 */
export async function declareStepRunnerTopology(jsm: JetStreamManager, opts: TopologyOptions): Promise<void> {
  await declareEngineTopology(jsm, opts);
  await declareDriveTopology(jsm, opts);
  await declareNotificationsTopology(jsm, opts);
}
