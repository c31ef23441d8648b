import type { JetStreamManager } from '@nats-io/jetstream';
import { CONSUMERS, executionSubjects } from '@trigrun/execution-contracts';
import { type TopologyOptions, declareExecutionStreams } from '@trigrun/execution-store';
import { removeConsumer } from '@trigrun/messaging';

/**
 * What the jobs reaction needs of the broker: the executions stream. It reads with a position of
 * its own (consumer_positions, row `scheduler-jobs`), not a JetStream durable, so the durable an
 * earlier version read with is removed. Idempotent: `npm run migrate` runs it, and the scheduler,
 * which hosts the reaction, runs it again at boot.
 *
 * A reaction without a recorded position starts from the stream's first event: its writes are
 * idempotent, so reading old runs again is harmless, and an end that came while no reaction ran
 * (an upgrade from an earlier version) is not missed.
 */
export async function declareJobsTopology(jsm: JetStreamManager, opts: TopologyOptions): Promise<void> {
  await declareExecutionStreams(jsm, opts);
  await removeConsumer(jsm, executionSubjects(opts.namespace).stream, CONSUMERS.schedulerJobs);
}
