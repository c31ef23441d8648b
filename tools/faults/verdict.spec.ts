import { type ExecutionRow, recoverySeconds, type Round, type SentRequest, summaryLine, verdict, type VerdictInput } from './verdict';

const T0 = Date.UTC(2026, 0, 1);
const rounds: Round[] = [
  { fault: 'none (baseline)', round: 0, killedAt: null, crashes: 0 },
  { fault: 'nats-server', round: 1, killedAt: T0 + 10_000, crashes: 1 },
];

function req(over: Partial<SentRequest> & Pick<SentRequest, 'rid'>): SentRequest {
  return { kind: 'create', sentAt: T0, doneAt: T0 + 50, status: 201, id: `job-${over.rid}`, jobId: '', failure: null, code: null, ...over };
}
const done = (id: string, jobId: string, finishedAt = T0 + 1000): ExecutionRow => ({ id, jobId, status: 'succeeded', finishedAt });

function input(over: Partial<VerdictInput>): VerdictInput {
  return { rounds, requests: [], executions: [], received: new Map(), boundMs: 60_000, workflowJobIds: new Set(['wf']), ...over };
}

describe('verdict of a fault run', () => {
  it('passes an acknowledged create with exactly one terminal execution whose request arrived', () => {
    const v = verdict(input({ requests: [req({ rid: 'a' })], executions: [done('e1', 'job-a')], received: new Map([['e1', [T0 + 100]]]) }));
    expect(v).toMatchObject({ acknowledged: 1, lost: 0, stuck: 0, duplicate: 0, problems: [] });
  });

  it('counts an acknowledged create without any execution as lost', () => {
    const v = verdict(input({ requests: [req({ rid: 'a' })] }));
    expect(v.lost).toBe(1);
    expect(v.problems[0]).toMatch(/^lost: create a/);
  });

  it('counts a succeeded execution whose target never got the request as lost', () => {
    const v = verdict(input({ requests: [req({ rid: 'a' })], executions: [done('e1', 'job-a')] }));
    expect(v.lost).toBe(1);
  });

  it('counts a 2xx that named no id as lost: it cannot be checked', () => {
    const v = verdict(input({ requests: [req({ rid: 'a', id: null })], executions: [done('e1', 'job-a')], received: new Map([['e1', [T0 + 100]]]) }));
    expect(v.lost).toBe(1);
  });

  it('counts a non-terminal execution, and one that ended past the bound, as stuck', () => {
    const v = verdict(
      input({
        requests: [req({ rid: 'a' }), req({ rid: 'b' })],
        executions: [
          { id: 'e1', jobId: 'job-a', status: 'running', finishedAt: null },
          done('e2', 'job-b', T0 + 50 + 60_001),
        ],
        received: new Map([
          ['e1', [T0 + 100]],
          ['e2', [T0 + 100]],
        ]),
      }),
    );
    expect(v.stuck).toBe(2);
    expect(v.lost).toBe(0);
  });

  it('counts a stuck execution of a request that got no 2xx as stuck too, on the total', () => {
    const failedCreate = req({ rid: 'a', status: 500, id: null, code: 'internal' });
    const v = verdict(input({ requests: [failedCreate], executions: [{ id: 'e1', jobId: 'job-a', status: 'running', finishedAt: null }] }));
    expect(v).toMatchObject({ acknowledged: 0, stuck: 1, unacknowledgedExecutions: 1 });
    const ended = verdict(input({ requests: [failedCreate], executions: [done('e1', 'job-a')] }));
    expect(ended.stuck).toBe(0);
  });

  it('counts a second execution of a created one_time job as a duplicate', () => {
    const v = verdict(input({ requests: [req({ rid: 'a' })], executions: [done('e1', 'job-a'), done('e2', 'job-a')], received: new Map([['e1', [T0 + 100]], ['e2', [T0 + 100]]]) }));
    expect(v.duplicate).toBe(1);
  });

  it('counts redelivered requests without failing on them, in the round whose kill interrupted them', () => {
    const three: Round[] = [...rounds, { fault: 'postgres', round: 1, killedAt: T0 + 20_000, crashes: 0 }];
    const received = new Map([['e1', [T0 + 9_500, T0 + 40_000, T0 + 41_000]]]);
    const v = verdict(input({ rounds: three, requests: [req({ rid: 'a' })], executions: [done('e1', 'job-a')], received }));
    // Sent 0.5 s before the nats-server kill, repeated an ack wait later, during the postgres round.
    expect(v.rounds.map((r) => r.redelivered)).toEqual([0, 1, 0]);
    expect(v.lost + v.stuck + v.duplicate).toBe(0);
  });

  it('allows as many unnamed workflow executions as run-nows went unanswered, and no more', () => {
    const runNow = (rid: string, over: Partial<SentRequest> = {}) => req({ rid, kind: 'run-now', status: 202, id: `x-${rid}`, jobId: 'wf', ...over });
    const named = [runNow('a'), runNow('b', { status: 503, id: null, code: 'unavailable' })];
    const executions = [done('x-a', 'wf'), done('x-orphan', 'wf')];
    const received = new Map([['x-a', [T0 + 100]], ['x-orphan', [T0 + 100]]]);
    expect(verdict(input({ requests: named, executions, received })).duplicate).toBe(0);
    expect(verdict(input({ requests: named, executions: [...executions, done('x-more', 'wf')], received })).duplicate).toBe(1);
    expect(verdict(input({ requests: [runNow('a')], executions: [], received })).lost).toBe(1);
  });

  it('puts a request in the round in which its answer came', () => {
    const failedByKill = req({ rid: 'a', sentAt: T0 + 9_000, doneAt: T0 + 19_000, status: 500, id: null, code: 'internal' });
    const v = verdict(input({ requests: [req({ rid: 'b' }), failedByKill], executions: [done('e1', 'job-b')], received: new Map([['e1', [T0 + 100]]]) }));
    expect(v.rounds.map((r) => [r.fault, r.sent, r.http500])).toEqual([
      ['none (baseline)', 1, 0],
      ['nats-server', 1, 1],
    ]);
    expect([...v.rounds[1].errors]).toEqual([['500 internal', 1]]);
    expect(v.rounds[1].crashes).toBe(1);
  });

  it('prints the closing line the issue asks for', () => {
    expect(summaryLine({ acknowledged: 6300, lost: 0, stuck: 5, duplicate: 0, rounds: [], unacknowledgedExecutions: 0, problems: [] })).toBe('6300 acknowledged, 0 lost, 5 stuck, 0 duplicate');
  });
});

describe('recoverySeconds', () => {
  const kill = T0 + 10_000;
  const at = (sent: number, took: number, status: number | null) => req({ rid: `r${sent}`, sentAt: kill + sent, doneAt: kill + sent + took, status });

  it('is null when the fault disturbed nothing', () => {
    expect(recoverySeconds([at(0, 20, 201), at(100, 20, 201)], kill)).toBeNull();
  });

  it('runs from the kill to the first normal 2xx after the last failure', () => {
    expect(recoverySeconds([at(0, 10, null), at(3000, 10, 503), at(3100, 10, 201), at(3200, 10, 201)], kill)).toBeCloseTo(3.11);
  });

  it('counts a slow 2xx as a disturbance (a stall is not a recovery)', () => {
    expect(recoverySeconds([at(0, 9000, 201), at(9500, 10, 201)], kill)).toBeCloseTo(9.51);
  });

  it('ignores what was sent before the kill', () => {
    expect(recoverySeconds([at(-5000, 100, 500), at(0, 10, 201)], kill)).toBeNull();
  });
});
