/**
 * `npm run bench:noisy`: one workspace floods the step-runner, another must not notice.
 *
 * Workspace A creates a request job whose local target never answers (timeout 300 s) and starts
 * FLOOD executions of it with run-now: more than the per-workspace cap and more than the engine's
 * slots. Workspace B meanwhile starts a one-second job with run-now every EVERY ms. Measured:
 * B's start delay (run-now answered -> request received by the target) p50/p99/max, with the
 * flood and without it (baseline, same platform, before the flood), and each process's CPU time
 * per B execution in both windows. Then the same flood on a second platform with the cap turned
 * off (TRIGRUN_WORKSPACE_MAX_IN_FLIGHT = the engine concurrency), where A's requests hang for
 * HANG_OFF_MS and then answer: what B waited before the cap existed.
 *
 * Bounded: fixed counts, every wait has a deadline, the platforms are stopped and removed.
 * The platforms get the environment of this process: if a rate limit answers 429 to the flood,
 * raise it through its variable on the command line.
 *
 * Usage: npm run bench:noisy [-- --flood 600 --quiet 40 --every 250]
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Platform, SERVICES, startPlatform } from '../harness.cjs';
import { call, cpuSnapshot, fmt, gauge, percentile, pool, signup, sleep, table } from './common';

const args = parseArgs(process.argv.slice(2));
const ENGINE_CONCURRENCY = 256;
/** The default per-workspace cap: a quarter of the engine concurrency. */
const DEFAULT_CAP = ENGINE_CONCURRENCY / 4;
const QUIET_JOB_MS = 1_000;
const QUIET_DEADLINE_MS = 20_000;
/** With the cap off, A's requests answer after this long, so the run stays bounded. */
const HANG_OFF_MS = 20_000;
const QUIET_RUNS_CAP_OFF = 10;
const FLOOD_CONCURRENCY = 16;

function parseArgs(argv: string[]) {
  const out = { flood: 600, quiet: 40, every: 250 };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(flood|quiet|every)(?:=(\d+))?$/.exec(argv[i]);
    if (!m) throw new Error(`unknown argument ${argv[i]}; usage: bench:noisy [-- --flood 600 --quiet 40 --every 250]`);
    const value = Number(m[2] ?? argv[++i]);
    if (!(value > 0)) throw new Error(`--${m[1]} needs a positive number`);
    out[m[1] as keyof typeof out] = value;
  }
  return out;
}

interface Target {
  url: string;
  firstSeen: Map<string, number>;
  /** A's requests held open right now, and the most at once. */
  hanging(): { now: number; peak: number };
  resetPeak(): void;
  close(): Promise<void>;
}

async function noisyTarget(): Promise<Target> {
  const firstSeen = new Map<string, number>();
  const open = new Set<ServerResponse>();
  let peak = 0;
  const server: Server = createServer((req, res) => {
    const now = Date.now();
    const id = req.headers['x-cron-service-execution-id'];
    if (typeof id === 'string' && !firstSeen.has(id)) firstSeen.set(id, now);
    req.resume();
    const url = new URL(req.url ?? '/', 'http://target');
    if (url.pathname === '/hang') {
      open.add(res);
      peak = Math.max(peak, open.size);
      res.on('close', () => open.delete(res));
      const ms = Number(url.searchParams.get('ms') ?? 0);
      if (ms > 0) setTimeout(() => res.writeHead(200).end('late'), ms).unref();
      return;
    }
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), QUIET_JOB_MS).unref();
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    firstSeen,
    hanging: () => ({ now: open.size, peak }),
    resetPeak: () => (peak = open.size),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Ctx {
  platform: Platform;
  target: Target;
  pids: Record<string, number>;
  metricsUrl: string;
}

async function requestJob(ctx: Ctx, token: string, name: string, url: string, timeoutSeconds: number): Promise<string> {
  const res = await call(ctx.platform.baseUrl, 'POST', '/v1/jobs', token, {
    name,
    kind: 'scheduled',
    // Far ahead: only run-now starts it.
    schedule: { run_at: new Date(Date.now() + 7 * 24 * 3600_000).toISOString() },
    request: { url, method: 'GET', timeout_seconds: timeoutSeconds },
    retry_policy: { max_attempts: 1 },
  });
  if (res.status !== 201) throw new Error(`create job failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

async function runNow(ctx: Ctx, token: string, jobId: string): Promise<{ id: string; answeredAt: number }> {
  const res = await call(ctx.platform.baseUrl, 'POST', `/v1/jobs/${jobId}/run-now`, token);
  if (res.status === 429) {
    throw new Error(`run-now answered 429 (${JSON.stringify(res.body)}): raise the per-workspace limit through its environment variable for this bench`);
  }
  if (res.status !== 202 || typeof res.body?.id !== 'string') throw new Error(`run-now failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, answeredAt: Date.now() };
}

interface QuietResult {
  delays: number[];
  missing: number;
  cpu: Record<string, number>;
  windowS: number;
}

/** B starts `count` runs, one every `every` ms, and waits for each to reach the target. */
async function quietRuns(ctx: Ctx, token: string, jobId: string, count: number, deadlineMs = QUIET_DEADLINE_MS): Promise<QuietResult> {
  const cpu0 = cpuSnapshot(ctx.pids);
  const t0 = Date.now();
  const runs: Promise<{ id: string; answeredAt: number }>[] = [];
  for (let i = 0; i < count; i++) {
    runs.push(runNow(ctx, token, jobId));
    await sleep(args.every);
  }
  const started = await Promise.all(runs);
  const deadline = Date.now() + deadlineMs;
  while (started.some((r) => !ctx.target.firstSeen.has(r.id)) && Date.now() < deadline) await sleep(5);
  const cpu1 = cpuSnapshot(ctx.pids);
  const windowS = (Date.now() - t0) / 1000;
  const delays = started.filter((r) => ctx.target.firstSeen.has(r.id)).map((r) => ctx.target.firstSeen.get(r.id)! - r.answeredAt);
  const cpu = Object.fromEntries(Object.keys(cpu1).map((k) => [k, cpu1[k] - cpu0[k]]));
  return { delays: delays.sort((a, b) => a - b), missing: started.length - delays.length, cpu, windowS };
}

async function flood(ctx: Ctx, token: string, jobId: string, count: number): Promise<number> {
  const t0 = Date.now();
  await pool(Array.from({ length: count }), FLOOD_CONCURRENCY, async () => {
    await runNow(ctx, token, jobId);
  });
  return (Date.now() - t0) / 1000;
}

async function bootPlatform(target: Target, env: Record<string, string>): Promise<Ctx> {
  const platform = await startPlatform({ label: 'noisy', env: { TRIGRUN_LOG_LEVEL: 'error', TRIGRUN_ENGINE_CONCURRENCY: String(ENGINE_CONCURRENCY), ...env } });
  const pids = platform.servicePids();
  const missing = SERVICES.filter((s) => !pids[s]);
  if (missing.length) {
    await platform.stop();
    throw new Error(`service processes not found: ${missing.join(', ')}`);
  }
  return { platform, target, pids, metricsUrl: `http://127.0.0.1:${platform.port + SERVICES.indexOf('step-runner')}/metrics` };
}

async function waitForHanging(ctx: Ctx, goal: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (ctx.target.hanging().now < goal && Date.now() < deadline) await sleep(20);
}

const delayCells = (r: QuietResult) => [
  String(r.delays.length),
  String(r.missing),
  fmt(percentile(r.delays, 50)),
  fmt(percentile(r.delays, 99)),
  r.missing ? `> ${fmt(QUIET_DEADLINE_MS)}` : fmt(r.delays[r.delays.length - 1]),
];

async function main() {
  console.log(`bench:noisy: A floods ${args.flood} hanging run-nows; B runs a ${QUIET_JOB_MS} ms job every ${args.every} ms (${args.quiet} runs); engine concurrency ${ENGINE_CONCURRENCY}`);
  const benchStart = Date.now();
  const target = await noisyTarget();
  const results: { label: string; r: QuietResult; aInFlight: number | string }[] = [];
  const stats: string[] = [];
  try {
    // ---- Part 1: the default per-workspace cap.
    let ctx = await bootPlatform(target, {});
    try {
      const [tokenA, tokenB] = [await signup(ctx.platform.baseUrl), await signup(ctx.platform.baseUrl)];
      const jobA = await requestJob(ctx, tokenA, 'noisy-hang', `${target.url}/hang`, 300);
      const jobB = await requestJob(ctx, tokenB, 'quiet-1s', `${target.url}/quick`, 30);
      await quietRuns(ctx, tokenB, jobB, 5); // warm-up
      const baseline = await quietRuns(ctx, tokenB, jobB, args.quiet);
      results.push({ label: 'B alone (baseline)', r: baseline, aInFlight: 0 });
      console.log(`  baseline done: ${baseline.delays.length} runs`);

      const floodS = await flood(ctx, tokenA, jobA, args.flood);
      await waitForHanging(ctx, Math.min(args.flood, DEFAULT_CAP), 30_000);
      await sleep(2_000); // let the step-runner's buffer and hand-backs settle
      target.resetPeak();
      console.log(`  flood: ${args.flood} run-now answered in ${fmt(floodS, 1)} s; A requests held open at the target: ${target.hanging().now}`);
      const handedBefore = await gauge(ctx.metricsUrl, 'trigrun_engine_handed_back_messages');
      const withFlood = await quietRuns(ctx, tokenB, jobB, args.quiet);
      const handedAfter = await gauge(ctx.metricsUrl, 'trigrun_engine_handed_back_messages');
      const buffered = await gauge(ctx.metricsUrl, 'trigrun_engine_buffered_messages');
      results.push({ label: `B while A floods ${args.flood} (cap ${DEFAULT_CAP}, default)`, r: withFlood, aInFlight: target.hanging().peak });
      stats.push(
        `cap ${DEFAULT_CAP}: A held ${target.hanging().peak} requests open at most during B's runs; step-runner buffered ${buffered ?? '-'} messages at the end, ` +
          `handed back ${handedAfter !== undefined && handedBefore !== undefined ? handedAfter - handedBefore : '-'} during B's window (${handedAfter ?? '-'} since start)`,
      );
    } finally {
      await ctx.platform.stop();
    }

    // ---- Part 2: the cap off (one workspace may take every slot), A's requests answer after HANG_OFF_MS.
    ctx = await bootPlatform(target, { TRIGRUN_WORKSPACE_MAX_IN_FLIGHT: String(ENGINE_CONCURRENCY) });
    try {
      const [tokenA, tokenB] = [await signup(ctx.platform.baseUrl), await signup(ctx.platform.baseUrl)];
      const jobA = await requestJob(ctx, tokenA, 'noisy-hang', `${target.url}/hang?ms=${HANG_OFF_MS}`, 300);
      const jobB = await requestJob(ctx, tokenB, 'quiet-1s', `${target.url}/quick`, 30);
      await quietRuns(ctx, tokenB, jobB, 3); // warm-up
      target.resetPeak();
      const floodS = await flood(ctx, tokenA, jobA, args.flood);
      await waitForHanging(ctx, Math.min(args.flood, ENGINE_CONCURRENCY), 30_000);
      console.log(`  cap off: flood answered in ${fmt(floodS, 1)} s; A requests held open: ${target.hanging().now}`);
      const off = await quietRuns(ctx, tokenB, jobB, QUIET_RUNS_CAP_OFF, HANG_OFF_MS + QUIET_DEADLINE_MS);
      results.push({ label: `B while A floods ${args.flood}, cap off (A's requests answer after ${HANG_OFF_MS / 1000} s)`, r: off, aInFlight: target.hanging().peak });
    } finally {
      await ctx.platform.stop();
    }
  } finally {
    await target.close();
  }

  console.log(`\nB's start delay: run-now answered -> request received by the target (ms)`);
  table(
    ['run', 'B started', 'not started', 'p50 ms', 'p99 ms', 'max ms', 'A requests open (peak)'],
    results.map(({ label, r, aInFlight }) => [label, ...delayCells(r), String(aInFlight)]),
  );
  for (const line of stats) console.log(`  ${line}`);

  console.log(`\nCPU ms per B execution in each window (all work of the window / B's executions; the flood windows include A's hand-backs)`);
  const names = [...SERVICES, 'nats-server (machine-wide)', 'postgres (machine-wide)'];
  table(
    ['process', ...results.map((x) => x.label.split(' (')[0].replace('B while A floods', 'flood'))],
    names.map((name) => [name, ...results.map(({ r }) => fmt((r.cpu[name] * 1000) / Math.max(1, r.delays.length), 1))]),
  );
  console.log(`  windows: ${results.map(({ r }) => `${fmt(r.windowS, 1)} s`).join(', ')}`);
  console.log(`\ndone in ${fmt((Date.now() - benchStart) / 1000)} s; platforms stopped and cleaned up`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
