import type { JetStreamManager } from '@nats-io/jetstream';
import { CONSUMERS } from '@trigrun/execution-contracts';
import { type TopologyOptions, declareExecutionConsumer } from '@trigrun/execution-store';

/**
 * The jobs reaction's durable consumer on the executions stream (see JobsReaction), declared in
 * code with the streams it reads. Idempotent: `npm run migrate` runs it, and the scheduler, which
 * hosts the reaction, runs it again at boot.
 *
 * A consumer created on a stream that already holds events starts from its first event: the
 * reaction's writes are idempotent, so reading old runs again is harmless, and an end that came
 * while no reaction ran (an upgrade from the read model's rule) is not missed.
 */
export async function declareJobsTopology(jsm: JetStreamManager, opts: TopologyOptions): Promise<void> {
  await declareExecutionConsumer(jsm, opts, CONSUMERS.schedulerJobs, 4096);
}
