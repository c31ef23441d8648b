import type { JetStreamManager } from '@nats-io/jetstream';
import { CONSUMERS, callbackSubjects, deadLetterSubjects, driveSubjects, executionSubjects } from '@trigrun/execution-contracts';
import { type FairnessOptions, ensureConsumer, ensureStream, workspaceHeaderOf } from '@trigrun/messaging';

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
  // A command stream read by one durable: each command is a durable driver until it is done.
  const commands = async (on: { stream: string; all: string }, durable: string) => {
    await ensureStream(jsm, { name: on.stream, subjects: [on.all], duplicateWindowMs: 10 * 60_000, maxAgeMs: 7 * DAY_MS }, opts.replicas);
    await ensureConsumer(jsm, { stream: on.stream, durable, filterSubject: on.all, ackWaitMs: opts.ackWaitMs, maxAckPending: 1024, maxDeliver: -1 });
  };
  await commands(callbackSubjects(opts.namespace), CONSUMERS.notifierCallbacks);
  // The sweeper's re-drives (docs/recovery.md): rare by design.
  await commands(driveSubjects(opts.namespace), CONSUMERS.stepRunnerDrive);
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

const decoder = new TextDecoder();

/**
 * The workspace of an execution event, before its handler runs: the header written at append
 * (reading it costs about as much as a map lookup), else the payload's `workspace_id` (events
 * appended before the header existed; a full JSON parse). Throws on an unreadable payload.
 */
export function workspaceOfEvent(msg: { readonly headers?: { get(key: string): string }; readonly data: Uint8Array }): string {
  const header = workspaceHeaderOf(msg.headers);
  if (header) return header;
  const parsed = JSON.parse(decoder.decode(msg.data)) as { workspace_id?: unknown } | null;
  return typeof parsed?.workspace_id === 'string' ? parsed.workspace_id : '';
}


/**
 * How the engine consumer shares its `concurrency` slots among workspaces: at most
 * `perWorkspace` in flight for one workspace (unset: a quarter of `concurrency`), round robin among
 * the workspaces with work waiting; up to four times `concurrency` messages (64 MiB at most) wait
 * in the step-runner, one workspace's as many as nobody else needs (the fullest gives way to a
 * workspace holding fewer); the rest are handed back, for a second or
 * longer, up to 30 s, so that all of them together come back at about 500 a second whatever the
 * flood. See docs/fairness.md.
 */
export function engineFairness(concurrency: number, perWorkspace?: number): FairnessOptions {
  return {
    keyOf: workspaceOfEvent,
    maxInFlightPerKey: Math.min(concurrency, perWorkspace ?? Math.max(1, Math.floor(concurrency / 4))),
    maxBufferedPerKey: 4 * concurrency,
    maxBuffered: 4 * concurrency,
    maxBufferedBytes: 64 * 1024 * 1024,
    minHandBackDelayMs: 1_000,
    maxHandBackDelayMs: 30_000,
    handBacksPerSecond: 500,
  };
}
