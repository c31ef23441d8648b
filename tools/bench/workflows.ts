/**
 * `npm run bench:workflows [-- N] [--duration S]`: the cost of workflows, in three parts.
 *
 *  (a) PARKED: N executions of a one-approval workflow (one job, max_concurrent_executions 0)
 *      started with run-now and left waiting: each service's RSS before, right after and 5 s
 *      after, MiB per 1,000 parked executions, and the Postgres database / JetStream stream
 *      growth per parked execution; the time to park them all.
 *  (b) RESUME: approving all N (32 at a time): approve-response -> finished_at latency p50/p99/max
 *      and completed executions per second; baseline: 20 approvals one at a time.
 *  (c) THROUGHPUT: a one-http-step workflow launched with run-now by 64 concurrent clients for
 *      S seconds against a local target: launched, completed, completions per second in steady
 *      state, run-now -> request received latency p50/p99, each process's CPU time; baseline:
 *      20 sequential runs.
 *
 * Usage: npm run bench:workflows [-- 10000 --duration 60]
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { type Platform, SERVICES, startPlatform } from '../harness.cjs';
import { call, cpuSnapshot, fmt, memoryOf, percentile, pool, sampleMemory, signup, sleep, table } from './common';

const { n: N, duration: DURATION_S } = parseArgs(process.argv.slice(2));
const LAUNCH_CONCURRENCY = 32;
const APPROVE_CONCURRENCY = 32;
const LOAD_CONCURRENCY = 64;
const BASELINE_RUNS = 20;
const STALL_MS = 60_000;

function parseArgs(argv: string[]) {
  let n = 10_000;
  let duration = 60;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = arg.startsWith('--duration=') ? arg.slice('--duration='.length) : arg === '--duration' ? argv[++i] : null;
    if (value !== null) duration = Number(value);
    else if (/^\d+$/.test(arg)) n = Number(arg);
    else throw new Error(`unknown argument ${arg}; usage: bench:workflows [-- N] [--duration S]`);
  }
  if (!(n > 0) || !(duration > 0)) throw new Error('N and --duration must be positive');
  return { n, duration };
}

interface Ctx {
  platform: Platform;
  base: string;
  token: string;
  db: Client;
  pids: Record<string, number>;
}

async function main() {
  console.log(`bench:workflows: N=${N}, duration=${DURATION_S}s`);
  // --expose-gc lets /metrics?gc=1 report the live heap (after a collection), not the high-water mark.
  const platform = await startPlatform({ label: 'bench', env: { TRIGRUN_LOG_LEVEL: 'error', TRIGRUN_NODE_ARGS: '--expose-gc' } });
  const target = await executionTarget();
  const db = new Client({ connectionString: `${platform.pgBase}/${platform.database}` });
  let failed = false;
  try {
    await db.connect();
    const token = await signup(platform.baseUrl);
    const pids = platform.servicePids();
    const missing = SERVICES.filter((s) => !pids[s]);
    if (missing.length) throw new Error(`service processes not found: ${missing.join(', ')}`);
    console.log(`platform up: ${platform.baseUrl}; services: ${Object.entries(pids).map(([s, pid]) => `${s}(${pid})`).join(', ')}`);
    const ctx: Ctx = { platform, base: platform.baseUrl, token, db, pids };

    const parked = await partParked(ctx);
    await partResume(ctx, parked);
    // The same processes after the same work, with nothing parked: what the parked state itself cost.
    await sleep(5000);
    const drained = rssNow(ctx.pids);
    const liveDrained = await liveHeaps(ctx.platform);
    console.log(`\nLive V8 heap MiB after a forced GC (/metrics?gc=1; the api-gateway serves no /metrics): before launching, with ${parked.ids.length} parked, after all finished`);
    table(
      ['service', 'before (0 parked)', `${parked.ids.length} parked`, 'after b (0 parked)', 'parked - before, KiB per 1,000'],
      SERVICES.filter((s) => parked.liveBefore[s] !== undefined).map((s) => [
        s,
        fmt(parked.liveBefore[s]!, 1),
        fmt(parked.liveParked[s]!, 1),
        fmt(liveDrained[s]!, 1),
        fmt(((parked.liveParked[s]! - parked.liveBefore[s]!) * 1024 * 1000) / parked.ids.length, 1),
      ]),
    );
    console.log(`\nRSS MiB with ${parked.ids.length} parked (a) vs the same processes once all of them finished (after b)`);
    table(
      ['service', `${parked.ids.length} parked`, '0 parked (after b)', 'parked - drained'],
      SERVICES.map((s) => [s, fmt(parked.parkedRss[s], 1), fmt(drained[s], 1), fmt(parked.parkedRss[s] - drained[s], 1)]),
    );
    await partThroughput(ctx, target);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await db.end().catch(() => undefined);
    await target.close();
    await platform.stop();
    if (!failed) console.log('\ndone; platform stopped and cleaned up');
  }
}

// ---------------------------------------------------------------------------------------------
// (a) PARKED

async function partParked(ctx: Ctx) {
  console.log(`\n(a) PARKED: ${N} executions of a one-approval workflow`);
  const jobId = await createJob(ctx, 'bench-approval', [{ id: 'approve', type: 'approval', message: 'ok?' }]);
  await sleep(2000); // let the job's creation settle before the baseline
  const baseline = rssNow(ctx.pids);
  const liveBefore = await liveHeaps(ctx.platform);
  const dbBefore = await databaseSize(ctx);
  const streamBefore = await streamState(ctx.platform);

  const memory = sampleMemory(ctx.pids);
  const started = Date.now();
  const ids = await launch(ctx, jobId, N, LAUNCH_CONCURRENCY);
  const launchSeconds = (Date.now() - started) / 1000;
  console.log(`  ${ids.length} run-now accepted in ${fmt(launchSeconds, 1)} s (${fmt(ids.length / launchSeconds)}/s); waiting for all to park`);
  const reached = await waitForCount(ctx, jobId, ['waiting'], ids.length, 'parked');
  if (!reached) throw new Error(`not all executions parked: ${JSON.stringify(await statusCounts(ctx, jobId))}`);
  const parkSeconds = (Date.now() - started) / 1000;
  const peak = memory.stop();
  const afterPark = rssNow(ctx.pids);
  await sleep(5000);
  const after5s = rssNow(ctx.pids);
  const dbAfter = await databaseSize(ctx);
  const streamAfter = await streamState(ctx.platform);

  const perThousand = (s: string) => ((after5s[s] - baseline[s]) / ids.length) * 1000;
  const total = (m: Record<string, number>) => SERVICES.reduce((sum, s) => sum + (m[s] ?? 0), 0);
  console.log(`\nParked executions: RSS MiB per service (baseline = this run, before launching)`);
  table(
    ['service', 'baseline', 'peak while parking', `${ids.length} parked`, 'parked +5 s', 'MiB / 1,000 parked'],
    [
      ...SERVICES.map((s) => [s, fmt(baseline[s], 1), fmt(peak[s], 1), fmt(afterPark[s], 1), fmt(after5s[s], 1), fmt(perThousand(s), 2)]),
      ['total', fmt(total(baseline), 1), fmt(total(peak), 1), fmt(total(afterPark), 1), fmt(total(after5s), 1), fmt(((total(after5s) - total(baseline)) / ids.length) * 1000, 2)],
    ],
  );
  const dbDelta = dbAfter - dbBefore;
  console.log(`  time to park all: ${fmt(parkSeconds, 1)} s (${fmt(ids.length / parkSeconds)} parked/s; run-now calls done after ${fmt(launchSeconds, 1)} s)`);
  console.log(`  Postgres database: ${mib(dbBefore)} -> ${mib(dbAfter)} MiB = ${fmt(dbDelta / ids.length)} bytes per parked execution`);
  if (streamBefore && streamAfter) {
    const bytes = streamAfter.bytes - streamBefore.bytes;
    const messages = streamAfter.messages - streamBefore.messages;
    console.log(
      `  JetStream ${streamAfter.name}: +${messages} messages, +${mib(bytes)} MiB = ${fmt(bytes / ids.length)} bytes and ${fmt(messages / ids.length, 1)} events per parked execution`,
    );
  } else {
    console.log('  JetStream stream size: unavailable');
  }
  // What the step-runner itself says it holds per execution (RSS above also carries the heap
  // high-water of the work of parking, which a GC returns only lazily).
  const cached = await gaugeOf(ctx.platform, 'step-runner', 'trigrun_engine_cached_executions');
  console.log(`  step-runner /metrics with ${ids.length} parked: trigrun_engine_cached_executions ${cached ?? '-'}`);
  const liveParked = await liveHeaps(ctx.platform);
  return { jobId, ids, parkedRss: after5s, liveBefore, liveParked };
}

// ---------------------------------------------------------------------------------------------
// (b) RESUME

async function partResume(ctx: Ctx, parked: { jobId: string; ids: string[] }) {
  console.log(`\n(b) RESUME: approving ${parked.ids.length} parked executions`);
  const urls = await approveUrls(ctx, parked.jobId);
  const missing = parked.ids.filter((id) => !urls.has(id));
  if (missing.length) throw new Error(`${missing.length} parked executions have no approve_url (e.g. ${missing[0]})`);

  // Baseline: 20 more parked executions (a separate job), approved one at a time, each waited for.
  const baselineJob = await createJob(ctx, 'bench-approval-baseline', [{ id: 'approve', type: 'approval', message: 'ok?' }]);
  const baselineIds = await launch(ctx, baselineJob, BASELINE_RUNS, 1);
  if (!(await waitForCount(ctx, baselineJob, ['waiting'], baselineIds.length, 'baseline parked'))) throw new Error('baseline executions did not park');
  const baselineUrls = await approveUrls(ctx, baselineJob);
  const baselineLat: number[] = [];
  const baselineFromSent: number[] = [];
  const baselinePost: number[] = [];
  for (const id of baselineIds) {
    const sent = Date.now();
    await approve(baselineUrls.get(id)!);
    const returned = Date.now();
    baselinePost.push(returned - sent);
    const finished = await waitForFinished(ctx, id);
    baselineLat.push(finished - returned);
    baselineFromSent.push(finished - sent);
  }
  console.log(`  baseline: ${baselineIds.length} sequential approvals done`);

  // Load: all N, 32 at a time.
  const returnedAt = new Map<string, number>();
  const sentAt = new Map<string, number>();
  const postMs: number[] = [];
  const errors: string[] = [];
  const firstSent = Date.now();
  await pool(parked.ids, APPROVE_CONCURRENCY, async (id) => {
    const sent = Date.now();
    try {
      await approve(urls.get(id)!);
      const returned = Date.now();
      returnedAt.set(id, returned);
      sentAt.set(id, sent);
      postMs.push(returned - sent);
    } catch (error) {
      errors.push(`${id}: ${(error as Error).message}`);
    }
  });
  const approvesDone = Date.now();
  console.log(`  ${returnedAt.size} approvals answered 200 in ${fmt((approvesDone - firstSent) / 1000, 1)} s (${errors.length} failed)`);
  if (errors.length) console.log(`  approve errors (first 5):\n    ${errors.slice(0, 5).join('\n    ')}`);
  const reached = await waitForCount(ctx, parked.jobId, ['succeeded', 'failed'], returnedAt.size, 'finished');
  const rows = (
    await ctx.db.query<{ id: string; status: string; finished_at: Date | null }>(`select id, status, finished_at from executions where job_id = $1`, [parked.jobId])
  ).rows;
  const lat: number[] = [];
  const fromSent: number[] = [];
  let lastFinished = 0;
  let failedCount = 0;
  for (const row of rows) {
    const returned = returnedAt.get(row.id);
    if (returned === undefined || !row.finished_at) continue;
    if (row.status === 'failed') failedCount++;
    lat.push(row.finished_at.getTime() - returned);
    fromSent.push(row.finished_at.getTime() - sentAt.get(row.id)!);
    lastFinished = Math.max(lastFinished, row.finished_at.getTime());
  }
  const phaseSeconds = (lastFinished - firstSent) / 1000;

  console.log(`\nResume: approve answered 200 -> execution finished_at (ms; server and client share a clock)`);
  table(
    ['run', 'approved', 'completed', 'failed', 'p50 ms', 'p99 ms', 'max ms', 'negatives (min)', 'approve POST p50/p99 ms', 'sent->finished p50/p99 ms', 'completed/s', 'phase s'],
    [
      latencyRow(`${BASELINE_RUNS} sequential (baseline)`, baselineIds.length, baselineLat, 0, baselinePost, baselineFromSent, NaN, NaN),
      latencyRow(`${parked.ids.length} at concurrency ${APPROVE_CONCURRENCY}`, returnedAt.size, lat, failedCount, postMs, fromSent, lat.length / phaseSeconds, phaseSeconds),
    ],
  );
  console.log(`  completed/s = completed / (last finished_at - first approve sent); target: p99 < 100 ms at moderate load (the baseline row)`);
  console.log(`  p50/p99/max clamp negatives to 0: a negative value means the execution finished before the approve response reached the client`);
  console.log(`  (sent->finished: from sending the approve POST to finished_at, never negative)`);
  if (!reached || errors.length) throw new Error(`resume phase incomplete: ${errors.length} approve errors, ${JSON.stringify(await statusCounts(ctx, parked.jobId))}`);
}

function latencyRow(label: string, approved: number, lat: number[], failed: number, post: number[], fromSent: number[], rate: number, seconds: number) {
  const sorted = [...lat].sort((a, b) => a - b);
  const clamp = (v: number) => fmt(Math.max(0, v));
  const negatives = sorted.filter((v) => v < 0);
  const postSorted = [...post].sort((a, b) => a - b);
  const sentSorted = [...fromSent].sort((a, b) => a - b);
  return [
    label,
    String(approved),
    String(lat.length),
    String(failed),
    clamp(percentile(sorted, 50)),
    clamp(percentile(sorted, 99)),
    clamp(sorted[sorted.length - 1]),
    negatives.length ? `${negatives.length} (${fmt(negatives[0])})` : '0',
    `${fmt(percentile(postSorted, 50))}/${fmt(percentile(postSorted, 99))}`,
    `${fmt(percentile(sentSorted, 50))}/${fmt(percentile(sentSorted, 99))}`,
    fmt(rate),
    fmt(seconds, 1),
  ];
}

// ---------------------------------------------------------------------------------------------
// (c) THROUGHPUT

async function partThroughput(ctx: Ctx, target: ExecutionTarget) {
  console.log(`\n(c) THROUGHPUT: one-http-step workflow, run-now at concurrency ${LOAD_CONCURRENCY} for ${DURATION_S} s`);
  const steps = [{ id: 'call', type: 'http', url: `${target.url}/hit`, method: 'POST', body: { n: 1 }, retry_policy: { max_attempts: 1 } }];

  // Baseline: 20 single runs, one at a time, each waited for to the end.
  const baselineJob = await createJob(ctx, 'bench-http-baseline', steps);
  const baselineLat: number[] = [];
  for (let i = 0; i < BASELINE_RUNS; i++) {
    const sent = Date.now();
    const id = await runNow(ctx, baselineJob);
    const deadline = Date.now() + 30_000;
    while (!target.firstSeen.has(id) && Date.now() < deadline) await sleep(1);
    if (!target.firstSeen.has(id)) throw new Error(`baseline execution ${id} never reached the target`);
    baselineLat.push(target.firstSeen.get(id)! - sent);
    await waitForFinished(ctx, id);
  }
  console.log(`  baseline: ${BASELINE_RUNS} sequential runs done`);

  const jobId = await createJob(ctx, 'bench-http', steps);
  await sleep(1000);
  const sentAt = new Map<string, number>();
  const errors: string[] = [];
  const cpu0 = cpuSnapshot(ctx.pids);
  const memory = sampleMemory(ctx.pids);
  const t0 = Date.now();
  const end = t0 + DURATION_S * 1000;
  await Promise.all(
    Array.from({ length: LOAD_CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const sent = Date.now();
        try {
          sentAt.set(await runNow(ctx, jobId), sent);
        } catch (error) {
          errors.push((error as Error).message);
          if (errors.length > 100) throw new Error(`too many run-now failures, e.g. ${errors[0]}`);
        }
      }
    }),
  );
  const windowEnd = Date.now();
  const cpuWindow = cpuSnapshot(ctx.pids);
  const launched = sentAt.size;
  console.log(`  ${launched} launched in ${fmt((windowEnd - t0) / 1000, 1)} s (${fmt(launched / ((windowEnd - t0) / 1000))}/s, ${errors.length} run-now errors); draining`);
  if (errors.length) console.log(`  run-now errors (first 5):\n    ${errors.slice(0, 5).join('\n    ')}`);
  const drained = await waitForCount(ctx, jobId, ['succeeded', 'failed'], launched, 'drained');
  const drainEnd = Date.now();
  const cpuDrain = cpuSnapshot(ctx.pids);
  const peak = memory.stop();

  const rows = (await ctx.db.query<{ id: string; status: string; finished_at: Date | null }>(`select id, status, finished_at from executions where job_id = $1`, [jobId])).rows;
  const finished = rows.filter((r) => r.finished_at && (r.status === 'succeeded' || r.status === 'failed'));
  const failedCount = finished.filter((r) => r.status === 'failed').length;
  const inWindow = finished.filter((r) => r.finished_at!.getTime() <= end).length;
  const warmup = Math.min(10_000, (DURATION_S * 1000) / 3);
  const steady = finished.filter((r) => r.finished_at!.getTime() > t0 + warmup && r.finished_at!.getTime() <= end).length / ((end - t0 - warmup) / 1000);
  const lat: number[] = [];
  for (const [id, sent] of sentAt) {
    const seen = target.firstSeen.get(id);
    if (seen !== undefined) lat.push(seen - sent);
  }
  const sortedLat = lat.sort((a, b) => a - b);
  const sortedBase = [...baselineLat].sort((a, b) => a - b);

  console.log(`\nThroughput: run-now -> request received by the target (ms); completions from finished_at`);
  table(
    ['run', 'launched', 'launched/s', 'done in window', 'done after drain', 'failed', 'steady done/s', 'received', 'p50 ms', 'p99 ms', 'max ms'],
    [
      [`${BASELINE_RUNS} sequential (baseline)`, String(BASELINE_RUNS), '-', '-', String(BASELINE_RUNS), '0', '-', String(baselineLat.length), fmt(percentile(sortedBase, 50)), fmt(percentile(sortedBase, 99)), fmt(sortedBase[sortedBase.length - 1])],
      [
        `concurrency ${LOAD_CONCURRENCY}, ${DURATION_S} s`,
        String(launched),
        fmt(launched / DURATION_S),
        String(inWindow),
        String(finished.length),
        String(failedCount),
        fmt(steady),
        String(lat.length),
        fmt(percentile(sortedLat, 50)),
        fmt(percentile(sortedLat, 99)),
        fmt(sortedLat[sortedLat.length - 1]),
      ],
    ],
  );
  console.log(`  steady done/s: executions with finished_at in (t0 + ${fmt(warmup / 1000)} s, t0 + ${DURATION_S} s]; drain took ${fmt((drainEnd - windowEnd) / 1000, 1)} s`);

  const windowS = (windowEnd - t0) / 1000;
  console.log(`\nCPU time during (c), seconds (utime+stime from /proc/<pid>/stat; ${cpuCount()} CPUs on this machine)`);
  const names = [...SERVICES, 'bench client (this process)', 'nats-server (machine-wide)', 'postgres (machine-wide)'];
  table(
    ['process', `window ${fmt(windowS, 1)} s`, '% of one core', 'window + drain', 'CPU ms / completed execution', 'peak RSS MiB'],
    names.map((name) => {
      const w = cpuWindow[name] - cpu0[name];
      const d = cpuDrain[name] - cpu0[name];
      return [name, fmt(w, 1), fmt((w / windowS) * 100), fmt(d, 1), fmt((d / Math.max(1, finished.length)) * 1000, 2), peak[name] !== undefined ? fmt(peak[name], 1) : '-'];
    }),
  );
  if (!drained || errors.length) throw new Error(`throughput phase incomplete: ${errors.length} run-now errors, ${JSON.stringify(await statusCounts(ctx, jobId))}`);
}

// ---------------------------------------------------------------------------------------------
// helpers

async function createJob(ctx: Ctx, name: string, steps: unknown[]): Promise<string> {
  const res = await call(ctx.base, 'POST', '/v1/jobs', ctx.token, { name, kind: 'workflow', steps, max_concurrent_executions: 0 });
  if (res.status !== 201) throw new Error(`create job failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

async function runNow(ctx: Ctx, jobId: string): Promise<string> {
  const res = await call(ctx.base, 'POST', `/v1/jobs/${jobId}/run-now`, ctx.token);
  if (res.status !== 202 || typeof res.body?.id !== 'string') throw new Error(`run-now failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

async function launch(ctx: Ctx, jobId: string, count: number, concurrency: number): Promise<string[]> {
  const ids: string[] = [];
  await pool(Array.from({ length: count }), concurrency, async () => {
    ids.push(await runNow(ctx, jobId));
  });
  return ids;
}

async function approve(url: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: '{}' });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`approve ${res.status} ${text.slice(0, 300)}`);
  const body = JSON.parse(text);
  if (body?.decided !== true) throw new Error(`approve answered 200 without decided=true: ${text.slice(0, 300)}`);
}

/** id -> approve_url of every waiting execution of a job, through the list endpoint's pages. */
async function approveUrls(ctx: Ctx, jobId: string): Promise<Map<string, string>> {
  const urls = new Map<string, string>();
  let cursor: string | null = null;
  do {
    const query = `/v1/executions?job_id=${encodeURIComponent(jobId)}&status=waiting&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await call(ctx.base, 'GET', query, ctx.token);
    if (res.status !== 200) throw new Error(`list executions failed: ${res.status} ${JSON.stringify(res.body)}`);
    for (const execution of res.body.data) {
      const url = execution.waiting_payload?.approve_url;
      if (typeof url !== 'string') throw new Error(`execution ${execution.id} is waiting without an approve_url: ${JSON.stringify(execution.waiting_payload)}`);
      urls.set(execution.id, url);
    }
    cursor = res.body.next_cursor;
  } while (cursor);
  return urls;
}

async function statusCounts(ctx: Ctx, jobId: string): Promise<Record<string, number>> {
  const res = await ctx.db.query<{ status: string; n: number }>(`select status, count(*)::int as n from executions where job_id = $1 group by status`, [jobId]);
  return Object.fromEntries(res.rows.map((r) => [r.status, r.n]));
}

/** Polls the read model until `goal` executions of the job are in one of `statuses`; false if it stalls for a minute. */
async function waitForCount(ctx: Ctx, jobId: string, statuses: string[], goal: number, label: string): Promise<boolean> {
  let last = -1;
  let lastProgress = Date.now();
  let lastLog = Date.now();
  for (;;) {
    const counts = await statusCounts(ctx, jobId);
    const n = statuses.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
    if (n >= goal) return true;
    if (n !== last) {
      last = n;
      lastProgress = Date.now();
    } else if (Date.now() - lastProgress > STALL_MS) {
      console.log(`  stalled: ${n}/${goal} ${label} for ${STALL_MS / 1000} s; statuses ${JSON.stringify(counts)}`);
      return false;
    }
    if (Date.now() - lastLog > 10_000) {
      console.log(`  ... ${n}/${goal} ${label}; statuses ${JSON.stringify(counts)}`);
      lastLog = Date.now();
    }
    await sleep(25);
  }
}

/** Waits for one execution to finish in the read model; its finished_at in ms. */
async function waitForFinished(ctx: Ctx, id: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const res = await ctx.db.query<{ status: string; finished_at: Date | null }>(`select status, finished_at from executions where id = $1`, [id]);
    const row = res.rows[0];
    if (row?.finished_at && (row.status === 'succeeded' || row.status === 'failed')) return row.finished_at.getTime();
    await sleep(2);
  }
  throw new Error(`execution ${id} did not finish within 30 s`);
}

async function databaseSize(ctx: Ctx): Promise<number> {
  return Number((await ctx.db.query<{ size: string }>('select pg_database_size(current_database()) as size')).rows[0].size);
}

async function streamState(platform: Platform): Promise<{ name: string; bytes: number; messages: number } | null> {
  const name = `${platform.namespace.toUpperCase()}_EXECUTIONS`;
  try {
    const nc = await connect({ servers: process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222' });
    try {
      const info = await (await jetstreamManager(nc)).streams.info(name);
      return { name, bytes: info.state.bytes, messages: info.state.messages };
    } finally {
      await nc.close();
    }
  } catch (error) {
    console.log(`  (stream info for ${name} unavailable: ${(error as Error).message})`);
    return null;
  }
}

function rssNow(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, memoryOf(pid).rss]));
}

function cpuCount(): number {
  return readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('processor')).length;
}

const mib = (bytes: number) => fmt(bytes / 1024 / 1024, 1);

interface ExecutionTarget {
  url: string;
  /** first receive time (ms since epoch) per X-Cron-Service-Execution-Id */
  firstSeen: Map<string, number>;
  close(): Promise<void>;
}

/**
 * One gauge of a service's /metrics (its port is the platform's base port + its index in
 * SERVICES; the api-gateway serves none); `gc` collects garbage first (needs --expose-gc).
 */
async function gaugeOf(platform: Platform, service: string, name: string, gc = false): Promise<number | undefined> {
  if (service === 'api-gateway') return undefined;
  try {
    const text = await (await fetch(`http://127.0.0.1:${platform.port + SERVICES.indexOf(service)}/metrics${gc ? '?gc=1' : ''}`)).text();
    const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Each internal service's live heap in MiB after a forced GC. */
async function liveHeaps(platform: Platform): Promise<Record<string, number | undefined>> {
  const out: Record<string, number | undefined> = {};
  for (const service of SERVICES) {
    if (service === 'api-gateway') continue;
    const bytes = await gaugeOf(platform, service, 'nodejs_heap_used_bytes', true);
    out[service] = bytes === undefined ? undefined : bytes / 1024 / 1024;
  }
  return out;
}

/** A local target recording when each execution's first request arrived. */
async function executionTarget(): Promise<ExecutionTarget> {
  const firstSeen = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const now = Date.now();
    const id = req.headers['x-cron-service-execution-id'];
    if (typeof id === 'string' && !firstSeen.has(id)) firstSeen.set(id, now);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    firstSeen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
