import type { JetStreamManager } from '@nats-io/jetstream';
import { CONSUMERS } from '@trigrun/execution-contracts';
import { type TopologyOptions, declareExecutionConsumer } from '@trigrun/execution-store';

/** The read model's durable consumer of every execution event (the api-gateway projects them). */
export async function declareReadModelTopology(jsm: JetStreamManager, opts: TopologyOptions): Promise<void> {
  await declareExecutionConsumer(jsm, opts, CONSUMERS.apiGatewayReadModel, 4096);
}
