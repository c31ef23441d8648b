import type { JetStreamManager } from '@nats-io/jetstream';
import { deadLetterSubjects, executionSubjects } from '@trigrun/execution-contracts';
import { ensureConsumer, ensureStream } from '@trigrun/messaging';

/**
 * Streams and durable consumers are declared in code, each by the lib that owns it: this lib the
 * executions stream and its dead letters; the engine, the read model, notifications and jobs their
 * own consumers and command streams (each calls `declareExecutionStreams` first, so any of them
 * can boot alone). Every declaration is idempotent: `npm run migrate` (and the Kubernetes
 * migration Job) runs them all, and each service runs its own again at boot.
 */
export interface TopologyOptions {
  readonly namespace: string;
  readonly replicas: number;
  readonly ackWaitMs: number;
  readonly retentionDays: number;
}

const DAY_MS = 24 * 3600_000;

/** The executions stream (every event of every execution) and the dead letters of every consumer. */
export async function declareExecutionStreams(jsm: JetStreamManager, opts: TopologyOptions): Promise<void> {
  const subjects = executionSubjects(opts.namespace);
  await ensureStream(
    jsm,
    { name: subjects.stream, subjects: [subjects.all], duplicateWindowMs: 2 * 60_000, maxAgeMs: opts.retentionDays * DAY_MS },
    opts.replicas,
  );
  const deadLetters = deadLetterSubjects(opts.namespace);
  await ensureStream(jsm, { name: deadLetters.stream, subjects: [deadLetters.all], duplicateWindowMs: 2 * 60_000, maxAgeMs: 30 * DAY_MS }, opts.replicas);
}

/** A durable consumer of every execution event (the streams are declared first). */
export async function declareExecutionConsumer(jsm: JetStreamManager, opts: TopologyOptions, durable: string, maxAckPending: number): Promise<void> {
  await declareExecutionStreams(jsm, opts);
  const subjects = executionSubjects(opts.namespace);
  await ensureConsumer(jsm, { stream: subjects.stream, durable, filterSubject: subjects.all, ackWaitMs: opts.ackWaitMs, maxAckPending, maxDeliver: -1 });
}

/**
 * A command stream read by one durable: each command is a durable driver until it is done
 * (callbacks, the sweeper's re-drives).
 */
export async function declareCommandStream(jsm: JetStreamManager, opts: TopologyOptions, on: { stream: string; all: string }, durable: string): Promise<void> {
  await ensureStream(jsm, { name: on.stream, subjects: [on.all], duplicateWindowMs: 10 * 60_000, maxAgeMs: 7 * DAY_MS }, opts.replicas);
  await ensureConsumer(jsm, { stream: on.stream, durable, filterSubject: on.all, ackWaitMs: opts.ackWaitMs, maxAckPending: 1024, maxDeliver: -1 });
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
