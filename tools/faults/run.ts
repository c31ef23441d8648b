/**
 * `npm run test:faults [-- --short]`: the fault-injection test (docs/fault-testing.md).
 *
 * Starts private nats-server, PostgreSQL and Redis instances on ports of their own with data in a
 * temporary folder (never the machine's servers on 4222/5432/6379), the five services on them,
 * drives a steady load through the public API (one_time creates and workflow run-nows through an
 * API token), and during the load SIGKILLs one process per round by pid — each service,
 * nats-server, PostgreSQL, Redis — and starts it again after DOWN_MS. Then it checks every
 * acknowledged (2xx) request: exactly one execution, terminal within the bound, its request
 * received by the target; counts redelivered requests, 5xx answers and time to recover per round.
 * Prints a table and `N acknowledged, L lost, S stuck, D duplicate`; exits 1 on any 500 answer or any lost, stuck
 * or duplicate, 2 when the run itself could not be carried out.
 *
 * Flags:
 *   --short             the CI subset: one round of nats-server, PostgreSQL, Redis, step-runner, api-gateway
 *   --rounds N          rounds per fault kind (full mode: 3)
 *   --faults a,b        only these fault kinds
 *   --rate R            requests per second (50)
 *   --target-delay MS   the target answers after a random 0..MS (500)
 *   --bound S           an acknowledged execution must be terminal within S seconds of its acknowledgement (90: three ack waits)
 *   --launcher          run the services under `tools/start.mjs` and expect it to restart a killed
 *                       service (use once the launcher supervises); by default the test restarts them
 *   --keep-logs DIR     copy every process's log to DIR (they are copied to .trigrun/fault-logs/ on failure anyway)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { ROOMY_LIMITS, SERVICES } from '../harness.cjs';
import { table } from '../bench/common';
import { call, field, Load, startTarget, type Target } from './load';
import { freePorts, initCluster, Managed, postgresBinDir, postgresUser, reachable, sleep, waitUntil } from './processes';
import { type ExecutionRow, isAck, type Round, SLOW_MS, summaryLine, TERMINAL, verdict } from './verdict';

const INFRA = ['nats-server', 'postgres', 'redis-server'] as const;
const ALL_FAULTS = [...SERVICES, ...INFRA];
const SHORT_FAULTS = ['nats-server', 'postgres', 'redis-server', 'step-runner', 'api-gateway'];
/** how long a killed process stays down before it is started again */
const DOWN_MS = 3000;
/** steady load before the first fault, and after each recovery before the next */
const BASELINE_MS = 5000;
const SETTLE_MS = 5000;
/** how long the platform may take to be ready again after a process is back */
const READY_TIMEOUT_MS = 60_000;
const CLIENT_TIMEOUT_MS = 15_000;
const CALM_TIMEOUT_MS = 30_000;
/** the services' ack wait: the shipped default, which this test leaves as it is */
const ACK_WAIT_MS = 30_000;
const WORKFLOW_JOBS = 10;

function findRoot(dir: string): string {
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}
const root = findRoot(__dirname);

interface Options {
  faults: string[];
  rounds: number;
  rate: number;
  boundS: number;
  targetDelayMs: number;
  launcher: boolean;
  keepLogs: string | null;
  short: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { faults: ALL_FAULTS, rounds: 3, rate: 50, boundS: 90, targetDelayMs: 500, launcher: false, keepLogs: null, short: false };
  let rounds: number | null = null;
  let faults: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--short') o.short = true;
    else if (flag === '--launcher') o.launcher = true;
    else if (flag === '--rounds') rounds = Number(value());
    else if (flag === '--rate') o.rate = Number(value());
    else if (flag === '--bound') o.boundS = Number(value());
    else if (flag === '--target-delay') o.targetDelayMs = Number(value());
    else if (flag === '--keep-logs') o.keepLogs = path.resolve(value());
    else if (flag === '--faults') faults = value().split(',').filter(Boolean);
    else throw new Error(`unknown argument ${argv[i]} (see tools/faults/run.ts)`);
  }
  if (o.short) {
    o.faults = SHORT_FAULTS;
    o.rounds = 1;
  }
  if (faults) o.faults = faults;
  if (rounds !== null) o.rounds = rounds;
  const unknown = o.faults.filter((f) => !ALL_FAULTS.includes(f));
  if (unknown.length) throw new Error(`unknown fault ${unknown.join(', ')}; known: ${ALL_FAULTS.join(', ')}`);
  if (!(o.rounds >= 1 && o.rounds <= 20) || !(o.rate > 0 && o.rate <= 500) || !(o.boundS > 0) || !(o.targetDelayMs >= 0 && o.targetDelayMs <= 10_000)) {
    throw new Error('--rounds 1-20, --rate 1-500, --bound > 0, --target-delay 0-10000');
  }
  return o;
}

const log = (line: string) => process.stdout.write(`[faults] ${line}\n`);

class Run {
  readonly tmp = mkdtempSync(path.join(os.tmpdir(), 'trigrun-faults-'));
  readonly logDir = path.join(this.tmp, 'logs');
  readonly procs = new Map<string, Managed>();
  launcher: ChildProcess | null = null;
  target: Target | null = null;
  load: Load | null = null;
  stopping = false;
  env: NodeJS.ProcessEnv = {};
  servicePort = 0;
  namespace = `faults${randomBytes(3).toString('hex')}`;
  dbUrl = '';

  constructor(readonly o: Options) {
    // The postgres user must reach its data directory inside the folder.
    chmodSync(this.tmp, 0o755);
    mkdirSync(this.logDir);
  }

  /** Restarts a process that exited on its own, as a supervisor would, and counts it. */
  private supervise(m: Managed) {
    m.onCrash = (name, how) => {
      if (this.stopping) return;
      log(`${name} exited on its own (${how}); starting it again in 1 s`);
      setTimeout(() => {
        if (!this.stopping && m.pid === undefined) m.start().catch((e) => log(`could not restart ${name}: ${e.message}`));
      }, 1000);
    };
  }

  async startInfra() {
    const base = await freePorts(3);
    const [natsPort, pgPort, redisPort] = [base, base + 1, base + 2];
    const natsDir = path.join(this.tmp, 'nats');
    const redisDir = path.join(this.tmp, 'redis');
    const pgDir = path.join(this.tmp, 'postgres');
    const pgSock = path.join(this.tmp, 'pgsock');
    mkdirSync(natsDir);
    mkdirSync(redisDir);
    const owner = postgresUser();
    const bin = postgresBinDir(root);
    initCluster(bin, pgDir, owner);
    mkdirSync(pgSock);
    if (owner.uid !== undefined) chownSync(pgSock, owner.uid, owner.gid!);
    this.dbUrl = `postgres://postgres@127.0.0.1:${pgPort}/trigrun`;

    const specs = [
      {
        name: 'nats-server',
        command: 'nats-server',
        args: ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', natsDir],
        ready: () => reachable(natsPort),
      },
      {
        name: 'postgres',
        command: path.join(bin, 'postgres'),
        args: ['-D', pgDir, '-p', String(pgPort), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${pgSock}`, '-c', 'max_connections=200'],
        ...owner,
        ready: () => pgReady(`postgres://postgres@127.0.0.1:${pgPort}/postgres`),
      },
      {
        name: 'redis-server',
        command: 'redis-server',
        args: ['--bind', '127.0.0.1', '--port', String(redisPort), '--dir', redisDir, '--save', '60 1'],
        ready: () => reachable(redisPort),
      },
    ];
    for (const spec of specs) {
      const m = new Managed(spec, this.logDir);
      this.procs.set(spec.name, m);
      this.supervise(m);
      await m.start();
    }
    log(`private infrastructure: nats-server :${natsPort}, PostgreSQL :${pgPort}, Redis :${redisPort}, data in ${this.tmp}`);
    this.env = {
      ...process.env,
      TRIGRUN_DATABASE_URL: this.dbUrl,
      TRIGRUN_NATS_URL: `nats://127.0.0.1:${natsPort}`,
      TRIGRUN_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      TRIGRUN_NAMESPACE: this.namespace,
      TRIGRUN_OUTBOUND_ALLOWLIST: '127.0.0.1/32,localhost',
      TRIGRUN_JWT_SECRET: randomBytes(32).toString('base64url'),
      TRIGRUN_MASTER_KEY: randomBytes(32).toString('base64'),
      // The ack wait stays the shipped default (30 s), as an operator's `npm start` has it: a shorter
      // one (the e2e harness's 5 s) redelivers sooner and hid the stuck executions of issue 10.
      TRIGRUN_SHUTDOWN_GRACE_MS: '3000',
      TRIGRUN_PRETTY_LOGS: 'false',
      TRIGRUN_LOG_LEVEL: process.env.TRIGRUN_LOG_LEVEL ?? 'warn',
      ...ROOMY_LIMITS,
    };
  }

  async startServices() {
    this.servicePort = await freePorts(SERVICES.length + 1);
    const port = this.servicePort;
    Object.assign(this.env, { PORT: String(port), TRIGRUN_PUBLIC_URL: `http://127.0.0.1:${port}` });
    if (this.o.launcher) return this.startLauncher();
    // As tools/start.mjs does: migrations and streams, then each service on its port.
    execFileSync(process.execPath, ['dist/tools/setup.js'], { cwd: root, env: this.env, stdio: ['ignore', 'pipe', 'inherit'] });
    await Promise.all(
      SERVICES.map(async (name, i) => {
        const env: NodeJS.ProcessEnv = { ...this.env, PORT: String(port + i), TRIGRUN_INSTANCE: name };
        if (name === 'api-gateway') {
          env.TRIGRUN_TRIGGER_INGEST_URL = `http://127.0.0.1:${port + SERVICES.indexOf('trigger-ingest')}`;
          env.TRIGRUN_METRICS_PORT = String(port + SERVICES.length);
        }
        const m = new Managed(
          { name, command: process.execPath, args: ['--enable-source-maps', `dist/apps/${name}/src/main.js`], env, ready: () => this.serviceReady(name), readyTimeoutMs: READY_TIMEOUT_MS },
          this.logDir,
        );
        this.procs.set(name, m);
        this.supervise(m);
        await m.start();
      }),
    );
  }

  private async startLauncher() {
    const { createWriteStream } = await import('node:fs');
    const out = createWriteStream(path.join(this.logDir, 'launcher.log'));
    const launcher = spawn(process.execPath, ['tools/start.mjs', '--no-install', '--no-build'], { cwd: root, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.launcher = launcher;
    launcher.stdout!.pipe(out);
    launcher.stderr!.pipe(out);
    let output = '';
    launcher.stdout!.on('data', (c) => (output += c));
    launcher.once('exit', (code, signal) => {
      if (!this.stopping) log(`the launcher exited (${signal ?? `code ${code}`}): it does not supervise; run without --launcher`);
    });
    await waitUntil('the launcher', async () => {
      if (launcher.exitCode !== null) throw new Error(`launcher exited with ${launcher.exitCode}; see its log`);
      return output.includes('TrigRun is running');
    }, 120_000);
  }

  /** pid of a service run by the launcher, found by its namespace in /proc (as tools/harness.cjs does). */
  launcherServicePid(name: string): number | undefined {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        if (!cmdline.includes(`dist/apps/${name}/src/main.js`)) continue;
        if (readFileSync(`/proc/${entry}/environ`, 'utf8').includes(`\0TRIGRUN_NAMESPACE=${this.namespace}\0`)) return Number(entry);
      } catch {
        // gone while we looked
      }
    }
    return undefined;
  }

  serviceReady(name: string): Promise<boolean> {
    return fetch(`http://127.0.0.1:${this.servicePort + SERVICES.indexOf(name)}/readyz`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.status === 200)
      .catch(() => false);
  }

  async allReady(timeoutMs: number): Promise<boolean> {
    try {
      await waitUntil('the services', async () => (await Promise.all(SERVICES.map((s) => this.serviceReady(s)))).every(Boolean), timeoutMs, 250);
      return true;
    } catch {
      return false;
    }
  }

  crashes(): number {
    let n = 0;
    for (const m of this.procs.values()) n += m.crashes;
    return n;
  }

  /** Kills one process by pid, keeps it down DOWN_MS, brings it back; resolves once everything is ready again. */
  async fault(name: string): Promise<{ killedAt: number; pid: number; ready: boolean }> {
    const supervisedByLauncher = this.o.launcher && SERVICES.includes(name);
    if (supervisedByLauncher) {
      const pid = this.launcherServicePid(name);
      if (!pid) throw new Error(`${name} is not running under the launcher`);
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      // The launcher's job now: a new process of that service, ready.
      let ready = true;
      try {
        await waitUntil(`${name} restarted by the launcher`, async () => {
          if (this.launcher?.exitCode !== null) throw new Error(`the launcher exited when ${name} was killed: it does not supervise`);
          const now = this.launcherServicePid(name);
          return now !== undefined && now !== pid && (await this.serviceReady(name));
        }, READY_TIMEOUT_MS);
      } catch (e) {
        if (this.launcher?.exitCode !== null) throw e;
        ready = false;
      }
      return { killedAt, pid, ready: ready && (await this.allReady(READY_TIMEOUT_MS)) };
    }
    const m = this.procs.get(name)!;
    const killedAt = Date.now();
    const pid = await m.kill();
    await sleep(DOWN_MS);
    await restartWithRetries(m);
    return { killedAt, pid, ready: await this.allReady(READY_TIMEOUT_MS) };
  }

  async cleanup(keepLogsTo: string | null) {
    this.stopping = true;
    await this.load?.stop().catch(() => undefined);
    if (this.launcher && this.launcher.exitCode === null) {
      const launcher = this.launcher;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => launcher.kill('SIGKILL'), 30_000);
        launcher.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        launcher.kill('SIGTERM');
      });
    }
    await Promise.all(SERVICES.map((s) => this.procs.get(s)?.stop(5000)));
    for (const name of INFRA) await this.procs.get(name)?.stop(10_000);
    for (const m of this.procs.values()) m.close();
    await this.target?.close();
    if (keepLogsTo) {
      try {
        mkdirSync(keepLogsTo, { recursive: true });
        cpSync(this.logDir, keepLogsTo, { recursive: true });
        log(`logs kept in ${keepLogsTo}`);
      } catch (e) {
        log(`could not keep the logs: ${(e as Error).message}`);
      }
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** PostgreSQL may refuse to start for a moment while the killed postmaster's backends exit. */
async function restartWithRetries(m: Managed) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await m.start();
    } catch (e) {
      if (attempt >= 10) throw e;
      await sleep(1000);
    }
  }
}

async function pgReady(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function readExecutions(dbUrl: string): Promise<ExecutionRow[]> {
  const client = new Client({ connectionString: dbUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; job_id: string; status: string; finished_at: Date | null }>('select id, job_id, status, finished_at from executions');
    return rows.map((r) => ({ id: r.id, jobId: r.job_id, status: r.status, finishedAt: r.finished_at ? r.finished_at.getTime() : null }));
  } finally {
    await client.end();
  }
}

/** True once every answer of the last 2 s was a 2xx within SLOW_MS (and there were some). */
async function waitCalm(load: Load): Promise<boolean> {
  const deadline = Date.now() + CALM_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const since = Date.now() - 2000;
    const recent = load.requests.filter((r) => r.doneAt >= since);
    if (recent.length > 0 && recent.every((r) => isAck(r) && r.doneAt - r.sentAt <= SLOW_MS)) return true;
    await sleep(250);
  }
  return false;
}

async function main(o: Options, run: Run): Promise<number> {
  const started = Date.now();
  const plan = Array.from({ length: o.rounds }, (_, r) => o.faults.map((fault) => ({ fault, round: r + 1 }))).flat();
  log(`${o.short ? 'short' : 'full'} mode: ${plan.length} faults (${o.faults.join(', ')} × ${o.rounds}), ${o.rate} requests/s, bound ${o.boundS} s, target delay 0-${o.targetDelayMs} ms, services ${o.launcher ? 'supervised by tools/start.mjs' : 'restarted by this test'}`);
  if (!existsSync(path.join(root, 'dist/tools/setup.js'))) throw new Error('dist/ is missing: run node tools/build.mjs first (npm run test:faults does)');
  await run.startInfra();
  await run.startServices();
  const base = `http://127.0.0.1:${run.servicePort}`;
  log(`platform up at ${base} (${((Date.now() - started) / 1000).toFixed(0)} s)`);

  run.target = await startTarget(o.targetDelayMs);
  const signup = await call(base, 'POST', '/v1/auth/signup', undefined, { name: 'faults', email: `faults-${Date.now()}@example.test`, password: 'fault injection', workspace_name: 'faults', timezone: 'UTC' });
  if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${JSON.stringify(signup.body)}`);
  const apiToken = await call(base, 'POST', '/v1/api-tokens', field(signup.body, 'token'), { name: 'faults' });
  const token = field(apiToken.body, 'token');
  if (apiToken.status !== 201 || !token) throw new Error(`api token: ${apiToken.status} ${JSON.stringify(apiToken.body)}`);
  const workflowJobIds: string[] = [];
  for (let i = 0; i < WORKFLOW_JOBS; i++) {
    const res = await call(base, 'POST', '/v1/jobs', token, {
      name: `faults-workflow-${i}`,
      kind: 'workflow',
      max_concurrent_executions: 0,
      steps: [{ id: 'call', type: 'http', url: `${run.target.url}/t/{{execution_id}}`, method: 'POST', body: { n: i }, retry_policy: { max_attempts: 1 } }],
    });
    const id = field(res.body, 'id');
    if (res.status !== 201 || !id) throw new Error(`workflow job: ${res.status} ${JSON.stringify(res.body)}`);
    workflowJobIds.push(id);
  }

  const rounds: Round[] = [{ fault: 'none (baseline)', round: 0, killedAt: null, crashes: 0 }];
  run.load = new Load({ base, token, targetUrl: run.target.url, rate: o.rate, workflowJobIds, timeoutMs: CLIENT_TIMEOUT_MS, maxInFlight: 1000 });
  run.load.start();
  await sleep(BASELINE_MS);
  for (const { fault, round } of plan) {
    const crashesBefore = run.crashes();
    const entry = { fault, round, killedAt: Date.now(), crashes: 0 };
    rounds.push(entry);
    const { killedAt, pid, ready } = await run.fault(fault);
    entry.killedAt = killedAt;
    log(`${fault} round ${round}: killed pid ${pid}, back after ${((Date.now() - killedAt) / 1000).toFixed(1)} s${ready ? '' : `; NOT all services ready within ${READY_TIMEOUT_MS / 1000} s`}`);
    await sleep(SETTLE_MS);
    // Rounds stay apart: the next kill waits until the API answers normally again (a gateway
    // that restarted catches up on its projection first), at most CALM_TIMEOUT_MS.
    const calm = await waitCalm(run.load);
    if (!calm) log(`${fault} round ${round}: the API was still disturbed ${CALM_TIMEOUT_MS / 1000} s after the settle time; going on`);
    entry.crashes = run.crashes() - crashesBefore;
  }
  await run.load.stop();
  const requests = run.load.requests;
  log(`load stopped: ${requests.length} requests sent, ${run.load.skipped} skipped (over ${1000} in flight)`);

  // Every acknowledged execution gets until bound after its acknowledgement to be terminal; so do
  // the executions of requests that got no 2xx.
  const acked = requests.filter(isAck);
  const deadline = Math.max(Date.now(), ...acked.map((r) => r.doneAt)) + o.boundS * 1000;
  const wanted = (rows: ExecutionRow[]) => {
    const byJob = new Map(rows.map((e) => [e.jobId, e]));
    const byId = new Map(rows.map((e) => [e.id, e]));
    const missing = acked.filter((r) => !(r.kind === 'create' ? byJob.get(r.id ?? '') : byId.get(r.id ?? ''))).length;
    return missing + rows.filter((e) => !TERMINAL.has(e.status)).length;
  };
  let executions = await readExecutions(run.dbUrl);
  while (wanted(executions) > 0 && Date.now() < deadline) {
    await sleep(1000);
    executions = await readExecutions(run.dbUrl);
  }
  // A message in flight at the last kill is redelivered one ack wait later (to a target too, when the
  // broker forgot it was acked): wait for that before counting, or the last round shows none.
  const lastKill = Math.max(...rounds.map((r) => r.killedAt ?? 0));
  await sleep(Math.max(2000, lastKill + ACK_WAIT_MS + 5000 - Date.now()));
  executions = await readExecutions(run.dbUrl);

  const v = verdict({ rounds, requests, executions, received: run.target.received, boundMs: o.boundS * 1000, workflowJobIds: new Set(workflowJobIds) });
  console.log('');
  const fmtS = (s: number | null) => (s === null ? '-' : s.toFixed(1));
  const order = ['none (baseline)', ...o.faults];
  const sorted = [...v.rounds].sort((a, b) => order.indexOf(a.fault) - order.indexOf(b.fault) || a.round - b.round);
  table(
    ['fault', 'round', 'sent', 'acknowledged', '5xx', 'of which 500', '4xx', 'refused', 'timed out', 'redelivered', 'recovery s', 'max latency s', 'failed', 'stuck', 'lost', 'duplicate', 'crashes'],
    sorted.map((r) => [
      r.fault,
      String(r.round),
      String(r.sent),
      String(r.acknowledged),
      String(r.http5xx),
      String(r.http500),
      String(r.http4xx),
      String(r.refused),
      String(r.timedOut),
      String(r.redelivered),
      fmtS(r.recoveryS),
      r.maxLatencyS.toFixed(1),
      String(r.failed),
      String(r.stuck),
      String(r.lost),
      String(r.duplicate),
      String(r.crashes),
    ]),
  );
  console.log('');
  for (const r of sorted) {
    if (r.errors.size) log(`${r.fault} round ${r.round} non-2xx answers: ${[...r.errors].map(([k, n]) => `${n} × ${k}`).join(', ')}`);
  }
  log(`stuck = not terminal, or terminal later than ${o.boundS} s after the acknowledgement; recovery = kill → first normal 2xx after the last failed or >2 s answer ("-": nothing was disturbed); crashes = processes that exited on their own during the round (restarted by the test)`);
  log(`${v.unacknowledgedExecutions} executions exist for requests that got no 2xx (allowed: the answer was lost, not the work); run took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  for (const p of v.problems.slice(0, 30)) log(p);
  if (v.problems.length > 30) log(`… and ${v.problems.length - 30} more`);
  // A dependency that is down is a 503 in the envelope, never a 500 (docs/failure-behaviour.md).
  const http500 = v.rounds.reduce((n, r) => n + r.http500, 0);
  if (http500 > 0) {
    log(`${http500} answers were 500 internal: a dependency outage must answer 503 unavailable`);
    // What the services logged for them: the error a CI log must show for the class to be fixed.
    for (const line of unhandledErrorLines(run.logDir).slice(0, 5)) log(`  ${line}`);
  }
  console.log(summaryLine(v));
  return v.lost + v.stuck + v.duplicate + http500 > 0 ? 1 : 0;
}

/** The services' "unhandled error" log lines (the 500s), each cut to 600 characters. */
function unhandledErrorLines(dir: string): string[] {
  const lines: string[] = [];
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (line.includes('unhandled error')) lines.push(`${file}: ${line.slice(0, 600)}`);
    }
  }
  return lines;
}

const options = (() => {
  try {
    return parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`[faults] ${(e as Error).message}\n`);
    process.exit(2);
  }
})();
const run = new Run(options);
// Bounded in time whatever happens: full mode is about 10 minutes, short about 2.
const limitMs = (options.short ? 8 : 40) * 60_000;
let finishing = false;
async function finish(code: number, reason?: string) {
  if (finishing) return;
  finishing = true;
  if (reason) process.stderr.write(`[faults] ${reason}\n`);
  const keep = options.keepLogs ?? (code !== 0 ? path.join(root, '.trigrun', 'fault-logs', new Date().toISOString().replace(/[:.]/g, '-')) : null);
  await run.cleanup(keep).catch((e) => process.stderr.write(`[faults] cleanup: ${e}\n`));
  process.exit(code);
}
process.on('SIGINT', () => void finish(130, 'interrupted; stopping everything'));
process.on('SIGTERM', () => void finish(143, 'terminated; stopping everything'));
const watchdog = setTimeout(() => void finish(2, `the run exceeded ${limitMs / 60_000} minutes; stopping`), limitMs);
main(options, run).then(
  (code) => {
    clearTimeout(watchdog);
    return finish(code);
  },
  (e) => {
    clearTimeout(watchdog);
    return finish(2, `the run could not be carried out: ${(e as Error)?.stack ?? e}`);
  },
);
