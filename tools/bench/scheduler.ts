/**
 * `npm run bench:scheduler`: N `scheduled` jobs all due at the same instant, pointing at a local
 * target. Reports the firing lag from run_at to the target receiving the request (p50, p99,
 * max), the round's duration, and each service's peak memory; then whether idle jobs cost
 * memory. Baselines measured in the same run: the lag of a single job, and idle memory.
 *
 * Usage: npm run bench:scheduler [-- 1000 10000]
 */
import { SERVICES, startPlatform } from '../harness.cjs';
import { call, fmt, memoryOf, percentile, pool, recordingTarget, sampleMemory, signup, sleep, table } from './common';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const ROUNDS = sizes.length ? sizes : [1000, 10000];
const CREATE_CONCURRENCY = 32;

async function main() {
  const platform = await startPlatform({ label: 'bench', env: { TRIGRUN_LOG_LEVEL: 'error' } });
  const target = await recordingTarget();
  try {
    const token = await signup(platform.baseUrl);
    const pids = platform.servicePids();
    const idle = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, memoryOf(pid).rss]));
    console.log(`platform up: ${platform.baseUrl}; services: ${Object.keys(pids).join(', ')}`);

    const rows: string[][] = [];
    for (const n of [1, ...ROUNDS]) {
      const result = await round(platform.baseUrl, token, target, n, pids);
      rows.push([n === 1 ? '1 (baseline)' : String(n), ...result]);
    }

    console.log('\nFiring lag: run_at -> request received by the target');
    table(['jobs', 'received', 'p50 ms', 'p99 ms', 'max ms', 'round s', 'create/s', ...SERVICES.map((s) => `${s} peak MiB`)], rows);

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

async function round(baseUrl: string, token: string, target: Awaited<ReturnType<typeof recordingTarget>>, n: number, pids: Record<string, number>) {
  const arrivalsBefore = target.arrivals.length;
  // Far enough ahead that every job exists before the slot (creation runs at a few hundred a second here).
  const runAt = Date.now() + 5_000 + n * 8;
  const memory = sampleMemory(pids);
  const createStart = Date.now();
  await pool(Array.from({ length: n }), CREATE_CONCURRENCY, async () => {
    const res = await call(baseUrl, 'POST', '/v1/jobs', token, {
      name: 'bench',
      kind: 'scheduled',
      schedule: { run_at: new Date(runAt).toISOString() },
      request: { url: `${target.url}/hit`, method: 'POST', body: { n } },
      retry_policy: { max_attempts: 1 },
    });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
  });
  const createSeconds = (Date.now() - createStart) / 1000;
  if (Date.now() >= runAt) console.warn(`warning: creating ${n} jobs took past run_at; lags include creation`);
  const deadline = runAt + 120_000;
  while (target.arrivals.length - arrivalsBefore < n && Date.now() < deadline) await sleep(50);
  const peaks = memory.stop();
  const lags = target.arrivals.slice(arrivalsBefore).map((t) => t - runAt).sort((a, b) => a - b);
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

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
