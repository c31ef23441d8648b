/**
 * `npm run bench:scheduler`: N `scheduled` jobs all due at the same instant, pointing at a local
 * target. Reports the firing lag from run_at to the target receiving the request (p50, p99,
 * max), the round's duration, and each service's peak memory; then whether idle jobs cost
 * memory. Baselines measured in the same run: the lag of a single job, and idle memory.
 *
 * The floor: before each round of N jobs, a bare Node client process (this file re-run with
 * `--floor-client`) sends N requests to the same target, with nothing else to do, and we take the
 * lag from its "go" signal to each arrival. That is the best any sender can do on this machine at
 * the same moment, so the platform's lag is read against this floor as well as against the
 * absolute target. Two lines: one fresh connection per request (`agent: false`,
 * as the platform's guarded client does, docs/outbound-requests.md), and keep-alive as a second reference.
 *
 * Usage: npm run bench:scheduler [-- 1000 10000]
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { SERVICES, startPlatform } from '../harness.cjs';
import { call, fmt, memoryOf, percentile, pool, type RecordingTarget, recordingTarget, sampleMemory, signup, sleep, table } from './common';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const ROUNDS = sizes.length ? sizes : [1000, 10000];
const CREATE_CONCURRENCY = 32;
/** Requests the floor client keeps in flight; the keep-alive agent opens as many sockets. */
const FLOOR_CONCURRENCY = 256;
const FLOOR_CLIENT_FLAG = '--floor-client';
/** Paths on the recording target, so the floor's requests are never counted as the platform's. */
const HIT_PATH = '/hit';
const FLOOR_PATH = '/floor';

type FloorMode = 'fresh' | 'keep-alive';

async function main() {
  const platform = await startPlatform({ label: 'bench', env: { TRIGRUN_LOG_LEVEL: 'error' } });
  const target = await recordingTarget();
  try {
    const token = await signup(platform.baseUrl);
    const pids = platform.servicePids();
    const idle = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, memoryOf(pid).rss]));
    console.log(`platform up: ${platform.baseUrl}; services: ${Object.keys(pids).join(', ')}`);

    const rows: string[][] = [];
    const floorRows: string[][] = [];
    for (const n of [1, ...ROUNDS]) {
      // Just before the round, so the floor shares the machine with the same idle platform.
      if (n !== 1) floorRows.push([String(n), ...(await floor(target, n, 'fresh')), ...(await floor(target, n, 'keep-alive'))]);
      const result = await round(platform.baseUrl, token, target, n, pids);
      rows.push([n === 1 ? '1 (baseline)' : String(n), ...result]);
    }

    console.log('\nFiring lag: run_at -> request received by the target');
    table(['jobs', 'received', 'p50 ms', 'p99 ms', 'max ms', 'round s', 'create/s', ...SERVICES.map((s) => `${s} peak MiB`)], rows);
    console.log('\nFloor on this machine: a bare client process sending N requests to the same target (same run); go -> request received');
    table(['N', 'fresh conn p50 ms', 'fresh conn p99 ms', 'fresh conn max ms', 'keep-alive p50 ms', 'keep-alive p99 ms', 'keep-alive max ms'], floorRows);

    // Idle jobs: far-future jobs must cost rows, not memory.
    const before = sampleMemory(pids);
    await sleep(1000);
    const idleBefore = before.stop();
    const far = new Date(Date.now() + 24 * 3600_000).toISOString();
    await pool(Array.from({ length: 10_000 }), CREATE_CONCURRENCY, async () => {
      await call(platform.baseUrl, 'POST', '/v1/jobs', token, { name: 'idle', kind: 'scheduled', schedule: { run_at: far }, request: { url: target.url } });
    });
    await sleep(3000);
    const after = sampleMemory(pids);
    await sleep(2000);
    const idleAfter = after.stop();
    console.log('\nMemory with 10,000 idle scheduled jobs (RSS MiB: at start of run / before idle jobs / after)');
    table(
      ['service', 'at start', 'before', 'after 10k idle jobs'],
      SERVICES.map((s) => [s, fmt(idle[s], 1), fmt(idleBefore[s], 1), fmt(idleAfter[s], 1)]),
    );
  } finally {
    await target.close();
    await platform.stop();
  }
}

async function round(baseUrl: string, token: string, target: RecordingTarget, n: number, pids: Record<string, number>) {
  const arrivalsBefore = target.arrivalsFor(HIT_PATH).length;
  // Far enough ahead that every job exists before the slot: creation runs at about 130 a second
  // here, and at half that on a loaded machine, where 8 ms a job was seen to fall short (a job
  // created after its run_at is refused, and the round died).
  const runAt = Date.now() + 5_000 + n * 15;
  const memory = sampleMemory(pids);
  const createStart = Date.now();
  await pool(Array.from({ length: n }), CREATE_CONCURRENCY, async () => {
    const res = await call(baseUrl, 'POST', '/v1/jobs', token, {
      name: 'bench',
      kind: 'scheduled',
      schedule: { run_at: new Date(runAt).toISOString() },
      request: { url: `${target.url}${HIT_PATH}`, method: 'POST', body: { n } },
      retry_policy: { max_attempts: 1 },
    });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  });
  const createSeconds = (Date.now() - createStart) / 1000;
  if (Date.now() >= runAt) console.warn(`warning: creating ${n} jobs took past run_at; lags include creation`);
  const deadline = runAt + 120_000;
  while (target.arrivalsFor(HIT_PATH).length - arrivalsBefore < n && Date.now() < deadline) await sleep(50);
  const peaks = memory.stop();
  const lags = target.arrivalsFor(HIT_PATH).slice(arrivalsBefore).map((t) => t - runAt).sort((a, b) => a - b);
  const roundSeconds = lags.length ? (lags[lags.length - 1] + runAt - Math.min(runAt, createStart)) / 1000 : NaN;
  console.log(`  ${n} jobs: ${lags.length} received; p99 ${fmt(percentile(lags, 99))} ms`);
  return [
    String(lags.length),
    fmt(percentile(lags, 50)),
    fmt(percentile(lags, 99)),
    fmt(lags[lags.length - 1]),
    fmt(roundSeconds, 1),
    fmt(n / createSeconds),
    ...SERVICES.map((s) => fmt(peaks[s], 1)),
  ];
}

/**
 * Runs the floor client in a child process and returns p50/p99/max of the lag from its "go" to
 * each arrival. A separate process, like the platform's senders, so the client does not share an
 * event loop with the target; the go signal keeps its startup out of the measurement.
 */
async function floor(target: RecordingTarget, n: number, mode: FloorMode): Promise<string[]> {
  const arrivalsBefore = target.arrivalsFor(FLOOR_PATH).length;
  const child = fork(process.argv[1], [FLOOR_CLIENT_FLAG, target.url, String(n), mode], { timeout: 120_000 });
  let goAt = NaN;
  child.once('message', () => {
    goAt = Date.now();
    child.send('go');
  });
  const code = await new Promise<number | null>((resolve, reject) => child.once('exit', resolve).once('error', reject));
  if (code !== 0) console.warn(`warning: floor client (${mode}, ${n}) exited with ${code}`);
  // The target records a request before answering it, so every arrival is in once the client has exited.
  const lags = target.arrivalsFor(FLOOR_PATH).slice(arrivalsBefore).map((t) => t - goAt).sort((a, b) => a - b);
  console.log(`  floor ${n} requests, ${mode}: ${lags.length} received; p99 ${fmt(percentile(lags, 99))} ms`);
  return [fmt(percentile(lags, 50)), fmt(percentile(lags, 99)), fmt(lags[lags.length - 1])];
}

/** The child side of `floor()`: waits for "go", then POSTs n requests like the platform's job requests. */
async function floorClient(url: string, n: number, mode: FloorMode) {
  const agent = mode === 'keep-alive' ? new Agent({ keepAlive: true, maxSockets: FLOOR_CONCURRENCY }) : false;
  const body = JSON.stringify({ n });
  const go = new Promise((resolve) => process.once('message', resolve));
  process.send?.('ready');
  await go;
  let failed = 0;
  await pool(Array.from({ length: n }), FLOOR_CONCURRENCY, () =>
    post(`${url}${FLOOR_PATH}`, body, agent).catch(() => {
      failed++; // not fatal: a lost request shows as fewer received
    }),
  );
  if (failed) console.warn(`floor client (${mode}): ${failed} of ${n} requests failed`);
  if (agent) agent.destroy();
  process.disconnect();
}

function post(url: string, body: string, agent: Agent | false): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', resolve).on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const run = process.argv[2] === FLOOR_CLIENT_FLAG ? floorClient(process.argv[3], Number(process.argv[4]), process.argv[5] as FloorMode) : main();
run.catch((error) => {
  console.error(error);
  process.exit(1);
});
