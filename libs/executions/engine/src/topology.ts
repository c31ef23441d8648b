import type { JetStreamManager } from '@nats-io/jetstream';
import { CONSUMERS, executionSubjects } from '@trigrun/execution-contracts';
import { ensureConsumer, ensureStream } from '@trigrun/messaging';

export interface TopologyOptions {
  readonly namespace: string;
  readonly replicas: number;
  readonly ackWaitMs: number;
}

/**
 * Streams and durable consumers, declared in code. Idempotent: `npm run migrate` (and the
 * Kubernetes migration Job) run it, and each service runs it again at boot.
 */
export async function declareTopology(jsm: JetStreamManager, opts: TopologyOptions): Promise<void> {
  const subjects = executionSubjects(opts.namespace);
  await ensureStream(jsm, { name: subjects.stream, subjects: [subjects.all], duplicateWindowMs: 2 * 60_000 }, opts.replicas);
  const consumer = (durable: string, maxAckPending: number) =>
    ensureConsumer(jsm, { stream: subjects.stream, durable, filterSubject: subjects.all, ackWaitMs: opts.ackWaitMs, maxAckPending, maxDeliver: -1 });
  await consumer(CONSUMERS.stepRunnerEngine, 4096);
  await consumer(CONSUMERS.apiGatewayReadModel, 4096);
  await consumer(CONSUMERS.notifierCallbacks, 1024);
}
