import type { JetStreamManager } from '@nats-io/jetstream';
import { CONSUMERS, executionSubjects } from '@trigrun/execution-contracts';
import { ensureConsumer } from '@trigrun/messaging';

export interface JobsTopologyOptions {
  readonly namespace: string;
  readonly ackWaitMs: number;
}

/**
 * The jobs reaction's durable consumer on the executions stream (see JobsReaction), declared in
 * code. The stream itself is the executions' (declared by the execution engine's topology, which
 * runs first). Idempotent: `npm run migrate` runs it, and the scheduler, which hosts the
 * reaction, runs it again at boot.
 *
 * A consumer created on a stream that already holds events starts from its first event: the
 * reaction's writes are idempotent, so reading old runs again is harmless, and an end that came
 * while no reaction ran (an upgrade from the read model's rule) is not missed.
 */
export async function declareJobsTopology(jsm: JetStreamManager, opts: JobsTopologyOptions): Promise<void> {
  const subjects = executionSubjects(opts.namespace);
  await ensureConsumer(jsm, {
    stream: subjects.stream,
    durable: CONSUMERS.schedulerJobs,
    filterSubject: subjects.all,
    ackWaitMs: opts.ackWaitMs,
    maxAckPending: 4096,
    maxDeliver: -1,
  });
}
