import type { JetStreamManager } from '@nats-io/jetstream';
import { CONSUMERS } from '@trigrun/execution-contracts';
import { type TopologyOptions, declareExecutionConsumer } from '@trigrun/execution-store';
import { type FairnessOptions, workspaceHeaderOf } from '@trigrun/messaging';

/**
 * The engine's durable consumer of every execution event (step-runner-engine), with the streams it
 * reads. The sweeper's DriveExecution commands that `ExecutionEngine.drive` carries out have their
 * stream declared with the sweeper (declareDriveTopology, @trigrun/execution-coordination).
 */
export async function declareEngineTopology(jsm: JetStreamManager, opts: TopologyOptions): Promise<void> {
  // Runs armed ahead of their slot (the scheduler's lookahead) wait as unacked, delayed messages:
  // the engine's limit must hold every run due within the lookahead, or the last ones start late.
  // Nothing is buffered in the step-runner for them; it pulls only as many as it works on.
  await declareExecutionConsumer(jsm, opts, CONSUMERS.stepRunnerEngine, 65_536);
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
