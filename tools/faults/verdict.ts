/**
 * The verdict of a fault-injection run, as pure functions of what the load client saw (every
 * request and its answer), what the read model holds at the end, and what the target received.
 * Kept apart from the processes so the rules that decide pass or fail are tested on their own
 * (verdict.spec.ts).
 */

export type RequestKind = 'create' | 'run-now';

/** One request of the load, as the client saw it. Times are ms since the epoch. */
export interface SentRequest {
  readonly rid: string;
  readonly kind: RequestKind;
  readonly sentAt: number;
  /** when the answer (or the failure) came */
  readonly doneAt: number;
  /** HTTP status, or null when no answer came (connection refused or reset, client timeout) */
  readonly status: number | null;
  /** create: the job id the 201 named; run-now: the execution id the 202 named */
  readonly id: string | null;
  /** run-now: the workflow job it ran */
  readonly jobId: string;
  /** why no answer came: refused or reset (`connection`), or nothing within the client's timeout */
  readonly failure: 'connection' | 'timeout' | null;
  /** `error.code` of a non-2xx answer, `(no envelope)` when the body was not the error envelope */
  readonly code: string | null;
}

/** One execution row of the read model (the table the API's /v1/executions reads). */
export interface ExecutionRow {
  readonly id: string;
  readonly jobId: string;
  readonly status: string;
  /** ms since the epoch, or null while not terminal */
  readonly finishedAt: number | null;
}

/**
 * One fault: a round runs from its kill to the next round's kill. A request belongs to the round
 * in which its answer came, so a request sent just before a kill and failed by it counts there.
 */
export interface Round {
  readonly fault: string;
  readonly round: number;
  /** when the process was killed (ms since the epoch); null for the baseline */
  readonly killedAt: number | null;
  /** processes of the platform that exited without being killed by the test during the round */
  readonly crashes: number;
}

export interface RoundFigures {
  readonly fault: string;
  readonly round: number;
  readonly sent: number;
  readonly acknowledged: number;
  readonly http5xx: number;
  /** of which exactly 500 */
  readonly http500: number;
  readonly http4xx: number;
  readonly refused: number;
  readonly timedOut: number;
  readonly redelivered: number;
  readonly recoveryS: number | null;
  readonly maxLatencyS: number;
  readonly failed: number;
  readonly stuck: number;
  readonly lost: number;
  readonly duplicate: number;
  readonly crashes: number;
  /** non-2xx answers by status and error code, e.g. `500 internal` → 163 */
  readonly errors: ReadonlyMap<string, number>;
}

export interface Verdict {
  readonly rounds: RoundFigures[];
  readonly acknowledged: number;
  readonly lost: number;
  readonly stuck: number;
  readonly duplicate: number;
  /** executions that exist for requests nobody was told succeeded (5xx, no answer): allowed */
  readonly unacknowledgedExecutions: number;
  /** acknowledged executions, one line each, that were lost, stuck or duplicated: for the log */
  readonly problems: string[];
}

export const TERMINAL = new Set(['succeeded', 'failed']);
/** An answer slower than this counts as a disturbance when measuring recovery. */
export const SLOW_MS = 2000;

export const isAck = (r: SentRequest) => r.status !== null && r.status >= 200 && r.status < 300;

/** Index of the round a moment belongs to: the last one killed at or before it (0, the baseline, before any). */
export function roundAt(rounds: readonly Round[], at: number): number {
  let index = 0;
  rounds.forEach((r, i) => {
    if (r.killedAt !== null && r.killedAt <= at) index = i;
  });
  return index;
}

/** How long before a kill a request may have arrived at the target and still be in flight (the target's delay, the append). */
export const IN_FLIGHT_MS = 1000;

/**
 * The round whose kill interrupted an execution that sent its request at `first` and again at
 * `repeat`: the first kill after `first` (less IN_FLIGHT_MS) and not after the repeat. A repeat
 * comes an ack wait (30 s) after the kill, rounds later, so the round it arrives in says nothing.
 */
export function interruptedBy(rounds: readonly Round[], first: number, repeat: number): number {
  const index = rounds.findIndex((r) => r.killedAt !== null && r.killedAt >= first - IN_FLIGHT_MS && r.killedAt <= repeat);
  return index >= 0 ? index : roundAt(rounds, repeat);
}

/** "1.2 s after the nats-server kill (round 1)": where a moment sits against the nearest kill, for the log. */
function nearestKill(rounds: readonly Round[], at: number): string {
  const kills = rounds.filter((r) => r.killedAt !== null);
  if (!kills.length) return 'no kill';
  const nearest = kills.reduce((a, b) => (Math.abs(b.killedAt! - at) < Math.abs(a.killedAt! - at) ? b : a));
  const d = (at - nearest.killedAt!) / 1000;
  return `${Math.abs(d).toFixed(1)} s ${d < 0 ? 'before' : 'after'} the ${nearest.fault} kill (round ${nearest.round})`;
}

/**
 * Time from the kill until the platform answered normally again: the first 2xx answer that came
 * after the last disturbed answer (a non-2xx, no answer, or one slower than SLOW_MS) of a request
 * sent after the kill. null when the fault disturbed nothing.
 */
export function recoverySeconds(requests: readonly SentRequest[], killedAt: number): number | null {
  const after = requests.filter((r) => r.sentAt >= killedAt);
  const disturbed = after.filter((r) => !isAck(r) || r.doneAt - r.sentAt > SLOW_MS);
  if (disturbed.length === 0) return null;
  const lastBad = Math.max(...disturbed.map((r) => r.doneAt));
  const recovered = after.filter((r) => isAck(r) && r.doneAt - r.sentAt <= SLOW_MS && r.sentAt >= lastBad).map((r) => r.doneAt);
  // Never recovered within the round: the whole round counts, up to its last answer.
  const end = recovered.length ? Math.min(...recovered) : Math.max(...after.map((r) => r.doneAt));
  return (end - killedAt) / 1000;
}

export interface VerdictInput {
  readonly rounds: readonly Round[];
  readonly requests: readonly SentRequest[];
  readonly executions: readonly ExecutionRow[];
  /** arrival times of the requests the target received, per execution id */
  readonly received: ReadonlyMap<string, readonly number[]>;
  /** how long after its acknowledgement an execution must be terminal */
  readonly boundMs: number;
  /** job ids of the run-now workflows, whose executions are matched to run-now answers */
  readonly workflowJobIds: ReadonlySet<string>;
}

/**
 * Exactly one execution per acknowledged request, terminal within the bound:
 *  - create (one_time): the job the 201 named has exactly one execution. None: lost. More: duplicate.
 *  - run-now: the execution the 202 named exists (else lost). Executions of the workflow jobs that
 *    no 2xx named are allowed up to the number of run-nows that got no 2xx (the server may have
 *    queued them before the answer failed); any beyond that are duplicates.
 *  - stuck: the execution is not terminal, or became terminal later than boundMs after the ack;
 *    also any execution nobody was told of (its request got no 2xx) that is not terminal.
 *  - lost also: the execution succeeded but the target never received its request.
 *  - redelivered: the target received more than one request for it (max_attempts is 1; at-least-once
 *    delivery allows this, so it is counted, not failed), in the round whose kill interrupted it.
 *  - lost, stuck, failed and duplicate count in the round of the acknowledgement; the problem lines
 *    say how far the acknowledgement was from the nearest kill.
 */
export function verdict(input: VerdictInput): Verdict {
  const { rounds, requests, executions, received, boundMs, workflowJobIds } = input;
  const byJob = new Map<string, ExecutionRow[]>();
  const byId = new Map<string, ExecutionRow>();
  for (const e of executions) {
    byId.set(e.id, e);
    const list = byJob.get(e.jobId) ?? [];
    list.push(e);
    byJob.set(e.jobId, list);
  }
  const problems: string[] = [];
  const acked = requests.filter(isAck);
  const outcome = new Map<string, { lost: boolean; stuck: boolean; duplicate: number; failed: boolean }>();
  // A redelivery belongs to the round in which the repeated request arrived: the fault that caused it.
  const redeliveredIn = new Map<number, number>();
  for (const r of acked) {
    let execution: ExecutionRow | undefined;
    let duplicate = 0;
    if (r.kind === 'create') {
      const list = r.id ? (byJob.get(r.id) ?? []) : [];
      execution = list[0];
      duplicate = Math.max(0, list.length - 1);
      if (duplicate) problems.push(`duplicate: job ${r.id} (create ${r.rid}) has ${list.length} executions: ${list.map((e) => e.id).join(', ')}`);
    } else {
      execution = r.id ? byId.get(r.id) : undefined;
    }
    const arrivals = execution ? (received.get(execution.id) ?? []) : [];
    const hits = arrivals.length;
    if (hits > 1) {
      const round = interruptedBy(rounds, arrivals[0], arrivals[1]);
      redeliveredIn.set(round, (redeliveredIn.get(round) ?? 0) + 1);
    }
    const lost = !execution || (execution.status === 'succeeded' && hits === 0);
    const stuck = !!execution && (!TERMINAL.has(execution.status) || execution.finishedAt === null || execution.finishedAt - r.doneAt > boundMs);
    const when = `acked ${nearestKill(rounds, r.doneAt)}`;
    if (!execution) problems.push(`lost: ${r.kind} ${r.rid} answered ${r.status} (${r.id}) but no execution exists; ${when}`);
    else if (lost) problems.push(`lost: execution ${execution.id} (${r.kind} ${r.rid}) succeeded but the target never received its request; ${when}`);
    if (stuck && execution) {
      const late = execution.finishedAt === null ? 'never finished' : `finished ${((execution.finishedAt - r.doneAt) / 1000).toFixed(1)} s after the ack`;
      problems.push(`stuck: execution ${execution.id} (${r.kind} ${r.rid}) is ${execution.status}, ${late}; ${when}, target received ${hits}`);
    }
    outcome.set(r.rid, { lost, stuck, duplicate, failed: execution?.status === 'failed' });
  }

  // run-now: executions of the workflows that no 2xx named, against the run-nows that may have made them.
  const named = new Set(acked.filter((r) => r.kind === 'run-now' && r.id).map((r) => r.id));
  const unnamed = executions.filter((e) => workflowJobIds.has(e.jobId) && !named.has(e.id));
  const ambiguousRunNows = requests.filter((r) => r.kind === 'run-now' && !isAck(r)).length;
  const runNowDuplicates = Math.max(0, unnamed.length - ambiguousRunNows);
  if (runNowDuplicates) problems.push(`duplicate: ${unnamed.length} workflow executions no run-now answer named, but only ${ambiguousRunNows} run-nows went unanswered`);
  const createdJobs = new Set(acked.filter((r) => r.kind === 'create' && r.id).map((r) => r.id));
  const unackedCreates = executions.filter((e) => !workflowJobIds.has(e.jobId) && !createdJobs.has(e.jobId));
  // Nobody was told these exist, but a stuck execution is stuck all the same (it holds its job's
  // slot and shows `running` forever): any not terminal at the end counts, on the total.
  const strayStuck = [...unnamed, ...unackedCreates].filter((e) => !TERMINAL.has(e.status));
  for (const e of strayStuck) problems.push(`stuck: execution ${e.id} of job ${e.jobId} (its request got no 2xx) is ${e.status}`);

  const figures: RoundFigures[] = rounds.map((round, index) => {
    const mine = requests.filter((r) => roundAt(rounds, r.doneAt) === index);
    const errors = new Map<string, number>();
    for (const r of mine) {
      if (r.status === null || isAck(r)) continue;
      const key = `${r.status} ${r.code ?? ''}`.trim();
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
    const outs = mine.filter(isAck).map((r) => outcome.get(r.rid)!);
    const count = (f: (o: (typeof outs)[number]) => boolean) => outs.filter(f).length;
    return {
      fault: round.fault,
      round: round.round,
      sent: mine.length,
      acknowledged: outs.length,
      http5xx: mine.filter((r) => r.status !== null && r.status >= 500).length,
      http500: mine.filter((r) => r.status === 500).length,
      http4xx: mine.filter((r) => r.status !== null && r.status >= 400 && r.status < 500).length,
      refused: mine.filter((r) => r.failure === 'connection').length,
      timedOut: mine.filter((r) => r.failure === 'timeout').length,
      redelivered: redeliveredIn.get(index) ?? 0,
      recoveryS: round.killedAt === null ? null : recoverySeconds(mine, round.killedAt),
      maxLatencyS: mine.length ? Math.max(...mine.map((r) => r.doneAt - r.sentAt)) / 1000 : 0,
      failed: count((o) => o.failed),
      stuck: count((o) => o.stuck),
      lost: count((o) => o.lost),
      duplicate: outs.reduce((n, o) => n + o.duplicate, 0),
      crashes: round.crashes,
      errors,
    };
  });
  // Run-now duplicates and stuck executions of unanswered requests cannot be tied to one
  // acknowledged request: they are counted on the total only.
  const sum = (f: (r: RoundFigures) => number) => figures.reduce((n, r) => n + f(r), 0);
  return {
    rounds: figures,
    acknowledged: acked.length,
    lost: sum((r) => r.lost),
    stuck: sum((r) => r.stuck) + strayStuck.length,
    duplicate: sum((r) => r.duplicate) + runNowDuplicates,
    unacknowledgedExecutions: unnamed.length + unackedCreates.length,
    problems,
  };
}

export const summaryLine = (v: Verdict) => `${v.acknowledged} acknowledged, ${v.lost} lost, ${v.stuck} stuck, ${v.duplicate} duplicate`;
