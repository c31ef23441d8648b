import type { JetStreamManager } from '@nats-io/jetstream';
import { CONSUMERS, callbackSubjects, executionSubjects } from '@trigrun/execution-contracts';
import { type TopologyOptions, declareCommandStream } from '@trigrun/execution-store';

/** The DeliverCallback command stream and the notifier's durable consumer of it. */
export async function declareNotificationsTopology(jsm: JetStreamManager, opts: TopologyOptions): Promise<void> {
  await declareCommandStream(jsm, opts, callbackSubjects(opts.namespace), CONSUMERS.notifierCallbacks);
  // Before DeliverCallback commands existed, the notifier read every execution event under the
  // same durable name: that consumer on the executions stream is removed.
  await jsm.consumers.delete(executionSubjects(opts.namespace).stream, CONSUMERS.notifierCallbacks).catch(() => undefined);
}
