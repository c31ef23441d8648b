import type { JetStreamManager } from '@nats-io/jetstream';
import { CONSUMERS, callbackSubjects, deadLetterSubjects, executionSubjects } from '@trigrun/execution-contracts';
import { ensureConsumer, ensureStream } from '@trigrun/messaging';

export interface TopologyOptions {
  readonly namespace: string;
  readonly replicas: number;
  readonly ackWaitMs: number;
  readonly retentionDays: number;
}

const DAY_MS = 24 * 3600_000;

/**
 * Streams and durable consumers, declared in code. Idempotent: `npm run migrate` (and the
 * Kubernetes migration Job) run it, and each service runs it again at boot.
 */
export async function declareTopology(jsm: JetStreamManager, opts: TopologyOptions): Promise<void> {
  const subjects = executionSubjects(opts.namespace);
  await ensureStream(
    jsm,
    { name: subjects.stream, subjects: [subjects.all], duplicateWindowMs: 2 * 60_000, maxAgeMs: opts.retentionDays * DAY_MS },
    opts.replicas,
  );
  const deadLetters = deadLetterSubjects(opts.namespace);
  await ensureStream(jsm, { name: deadLetters.stream, subjects: [deadLetters.all], duplicateWindowMs: 2 * 60_000, maxAgeMs: 30 * 24 * 3600_000 }, opts.replicas);
  const consumer = (durable: string, maxAckPending: number) =>
    ensureConsumer(jsm, { stream: subjects.stream, durable, filterSubject: subjects.all, ackWaitMs: opts.ackWaitMs, maxAckPending, maxDeliver: -1 });
  // Runs armed ahead of their slot (the scheduler's lookahead) wait as unacked, delayed messages:
  // the engine's limit must hold every run due within the lookahead, or the last ones start late.
  // Nothing is buffered in the step-runner for them; it pulls only as many as it works on.
  await consumer(CONSUMERS.stepRunnerEngine, 65_536);
  await consumer(CONSUMERS.apiGatewayReadModel, 4096);
  const callbacks = callbackSubjects(opts.namespace);
  await ensureStream(jsm, { name: callbacks.stream, subjects: [callbacks.all], duplicateWindowMs: 10 * 60_000, maxAgeMs: 7 * DAY_MS }, opts.replicas);
  await ensureConsumer(jsm, {
    stream: callbacks.stream,
    durable: CONSUMERS.notifierCallbacks,
    filterSubject: callbacks.all,
    ackWaitMs: opts.ackWaitMs,
    maxAckPending: 1024,
    maxDeliver: -1,
  });
  // Before DeliverCallback commands existed, the notifier read every execution event.
  await jsm.consumers.delete(subjects.stream, CONSUMERS.notifierCallbacks).catch(() => undefined);
}

interface ServiceConfig {
  readonly TRIGRUN_NAMESPACE: string;
  readonly TRIGRUN_JETSTREAM_REPLICAS: number;
  readonly TRIGRUN_ACK_WAIT_MS: number;
  readonly TRIGRUN_SHUTDOWN_GRACE_MS: number;
  readonly TRIGRUN_EVENT_RETENTION_DAYS: number;
}

export const topologyOf = (
  config: Pick<ServiceConfig, 'TRIGRUN_NAMESPACE' | 'TRIGRUN_JETSTREAM_REPLICAS' | 'TRIGRUN_ACK_WAIT_MS' | 'TRIGRUN_EVENT_RETENTION_DAYS'>,
): TopologyOptions => ({
  namespace: config.TRIGRUN_NAMESPACE,
  replicas: config.TRIGRUN_JETSTREAM_REPLICAS,
  ackWaitMs: config.TRIGRUN_ACK_WAIT_MS,
  retentionDays: config.TRIGRUN_EVENT_RETENTION_DAYS,
});

/** How a service consumes the executions stream as `durable`: the options of a hosted consumer. */
export function executionConsumerOptions(config: ServiceConfig, durable: string, concurrency: number) {
  return {
    stream: executionSubjects(config.TRIGRUN_NAMESPACE).stream,
    durable,
    concurrency,
    ackWaitMs: config.TRIGRUN_ACK_WAIT_MS,
    shutdownGraceMs: config.TRIGRUN_SHUTDOWN_GRACE_MS,
    deadLetterSubject: deadLetterSubjects(config.TRIGRUN_NAMESPACE).forConsumer(durable),
  };
}
