import type { DriveExecution, ExecutionEvent, JobSnapshot, NewExecutionEvent } from '@trigrun/execution-contracts';
import { EVENT_SCHEMA_VERSION } from '@trigrun/execution-contracts';
import { type ExecutionCommand, type ExecutionState, decide, evolve, initialState, isIgnore } from '@trigrun/execution-domain';
import type { LoadedExecution } from '@trigrun/execution-store';
import { ExecutionSweeper, driveDeadline } from './sweeper';

const T0 = Date.parse('2026-03-15T10:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const bounds = { stallMs: 120_000, ackWaitMs: 30_000 };
const identity = { executionId: 'exec_1', jobId: 'job_1', workspaceId: 'ws_1' };
const job: JobSnapshot = {
  name: 'sweep',
  kind: 'one_time',
  request: { url: 'http://target.test/', method: 'GET', headers: {}, timeout_seconds: 60, success_statuses: [200] },
  retry_policy: { max_attempts: 3, retry_on_statuses: [503] },
};

/** A history built by the decider, each command's events stamped at its time. */
function history(...steps: Array<[number, (s: ExecutionState) => ExecutionCommand]>): LoadedExecution {
  let state = initialState();
  const events: ExecutionEvent[] = [];
  for (const [at, command] of steps) {
    const decision = decide(command(state), state);
    if (isIgnore(decision)) throw new Error(decision.reason);
    for (const e of decision as NewExecutionEvent[]) {
      const event = { ...e, version: EVENT_SCHEMA_VERSION, id: `evt_${events.length}`, execution_id: 'exec_1', job_id: 'job_1', workspace_id: 'ws_1', occurred_at: iso(at), position: events.length + 1 } as ExecutionEvent;
      events.push(event);
      state = evolve(state, event);
    }
  }
  return { state, events, lastSeq: events.length, position: events.length };
}
const queued = (at = 0): [number, (s: ExecutionState) => ExecutionCommand] => [at, () => ({ type: 'QueueExecution', identity, job, trigger: 'manual', scheduledFor: null, replayOf: null, triggerInput: null })];
const started = (at = 0): [number, (s: ExecutionState) => ExecutionCommand] => [at, () => ({ type: 'StartExecution', now: iso(at), uuid: 'u', firstAttemptByStarter: true })];
const attempt = (at: number, status: 'SUCCESS' | 'HTTP_ERROR', statusCode: number): [number, (s: ExecutionState) => ExecutionCommand] => [
  at,
  () => ({
    type: 'RecordAttempt',
    attempt: { number: 1, startedAt: iso(at), finishedAt: iso(at), status, statusCode, latencyMs: 1, errorClass: null, errorMessage: null, bodyPreview: '', responseHeaders: {} } as never,
    now: iso(at),
    jitter: 0.5,
  }),
];

describe('driveDeadline: when an execution must have moved, if anything drives it', () => {
  it('gives a request in flight its timeout, then ack_wait and the stall bound', () => {
    const loaded = history(queued(), started());
    expect(driveDeadline(loaded, new Date(T0 + 1000), bounds)).toMatchObject({ at: T0 + 60_000 + 30_000 + 120_000 });
  });

  it('counts a retry from its next_attempt_at', () => {
    const loaded = history(queued(), started(), attempt(1000, 'HTTP_ERROR', 503));
    const next = (loaded.events.at(-1)!.data as { next_attempt_at: string }).next_attempt_at;
    const deadline = driveDeadline(loaded, new Date(T0 + 1000), bounds)!;
    expect(deadline.at).toBe(Date.parse(next) + 30_000 + 120_000);
    expect(deadline.why).toContain('due at');
  });

  it('owes nothing for an ended execution', () => {
    expect(driveDeadline(history(queued(), started(), attempt(1000, 'SUCCESS', 200)), new Date(T0 + 10_000_000), bounds)).toBeNull();
  });

  it('gives a queued execution ack_wait and the stall bound', () => {
    expect(driveDeadline(history(queued()), new Date(T0), bounds)).toMatchObject({ at: T0 + 150_000 });
  });
});

describe('ExecutionSweeper', () => {
  const stuck = history(queued(), started());
  const candidate = { id: 'exec_1', jobId: 'job_1', workspaceId: 'ws_1', updatedAt: new Date(T0) };

  function sweeper(now: number, published: DriveExecution[], fresh = true) {
    return new ExecutionSweeper(
      {
        store: { load: async () => stuck },
        candidates: async () => [candidate],
        publish: async (c) => {
          published.push(c);
          return fresh;
        },
        now: () => new Date(T0 + now),
        logger: { warn: () => undefined },
      },
      bounds,
    );
  }

  it('leaves an execution alone within its bound, and re-drives it once past it', async () => {
    const published: DriveExecution[] = [];
    const within = sweeper(210_000, published);
    expect(await within.sweep()).toBe(0);
    expect(published).toHaveLength(0);
    const past = sweeper(210_001, published);
    expect(await past.sweep()).toBe(1);
    expect(published).toEqual([expect.objectContaining({ type: 'DriveExecution', execution_id: 'exec_1', position: 2 })]);
    expect(published[0].reason).toContain('ExecutionStarted');
    expect(past.redrives).toBe(1);
  });

  it('does not count a command another sweeper already issued for the same stall', async () => {
    const published: DriveExecution[] = [];
    const s = sweeper(300_000, published, false);
    expect(await s.sweep()).toBe(0);
    expect(s.redrives).toBe(0);
  });
});
