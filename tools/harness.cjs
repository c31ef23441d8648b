// Starts a whole TrigRun platform for tests and benchmarks, isolated from anything else on the
// machine: its own namespace (NATS subjects, streams, Redis keys), database and port range, via
// the same launcher as `npm start`. `stop()` shuts it down like Ctrl-C and deletes what it made.
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { existsSync, readFileSync, readdirSync } = require('node:fs');
const net = require('node:net');
const path = require('node:path');

/** The repository root: this file runs from tools/ and, copied by the build, from dist/tools/. */
function findRoot(dir) {
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}
const root = findRoot(__dirname);
const SERVICES = ['api-gateway', 'scheduler', 'trigger-ingest', 'step-runner', 'notifier'];

function isFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freePortRange(count) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => isFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port range');
}

/**
 * The e2e suite and the benchmarks drive one platform from one address through a few tokens,
 * far harder than any client would (bench:workflows: 64 run-now clients on one token for 60 s;
 * bench:scheduler: 10,000 jobs in one workspace), so the limits that would get in their way are
 * raised here. Pass `env` to override; `''` restores a limit's real default (docs/limits.md), as
 * test/e2e/limits.e2e-spec.ts does on a platform of its own.
 */
const ROOMY_LIMITS = {
  TRIGRUN_RATE_LIMIT_LOGIN_ACCOUNT: '1000/1m',
  TRIGRUN_RATE_LIMIT_LOGIN_ADDRESS: '100000/1m',
  TRIGRUN_RATE_LIMIT_SIGNUP_ADDRESS: '100000/1m',
  TRIGRUN_RATE_LIMIT_TOKEN: '10000000/1m',
  TRIGRUN_RATE_LIMIT_RUN_NOW: '10000000/1m',
  TRIGRUN_QUOTA_JOBS: '1000000',
};

async function startPlatform({ env: extraEnv = {}, verbose = false, label = 'test' } = {}) {
  const id = randomBytes(4).toString('hex');
  // One port per service, and the api-gateway's /metrics listener after them.
  const port = await freePortRange(SERVICES.length + 1);
  const namespace = `${label}${id}`;
  const database = `trigrun_${label}_${id}`;
  const pgBase = process.env.TRIGRUN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const env = {
    ...process.env,
    PORT: String(port),
    TRIGRUN_PUBLIC_URL: `http://127.0.0.1:${port}`,
    TRIGRUN_NAMESPACE: namespace,
    TRIGRUN_DATABASE_URL: `${pgBase}/${database}`,
    TRIGRUN_OUTBOUND_ALLOWLIST: '127.0.0.1/32,localhost',
    TRIGRUN_JWT_SECRET: randomBytes(32).toString('base64url'),
    TRIGRUN_MASTER_KEY: randomBytes(32).toString('base64'),
    TRIGRUN_ACK_WAIT_MS: '5000',
    TRIGRUN_SHUTDOWN_GRACE_MS: '3000',
    TRIGRUN_PRETTY_LOGS: 'false',
    TRIGRUN_LOG_LEVEL: process.env.TRIGRUN_LOG_LEVEL ?? 'warn',
    ...ROOMY_LIMITS,
    ...extraEnv,
  };
  const launcher = spawn(process.execPath, ['tools/start.mjs', '--no-install', '--no-build'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk) => {
    output += chunk;
    if (verbose) process.stderr.write(chunk);
  };
  launcher.stdout.on('data', keep);
  launcher.stderr.on('data', keep);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`platform did not start in 90s:\n${output}`)), 90_000);
    launcher.stdout.on('data', () => {
      if (output.includes('TrigRun is running')) {
        clearTimeout(timer);
        resolve();
      }
    });
    launcher.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`launcher exited with ${code} before the platform was ready:\n${output}`));
    });
  });
  const state = { baseUrl: `http://127.0.0.1:${port}`, port, namespace, database, pgBase, launcherPid: launcher.pid };
  return {
    ...state,
    launcher,
    /** pid of each service process, found by its namespace in /proc. */
    servicePids: () => servicePids(namespace),
    stop: () => stopPlatform(state, launcher),
  };
}

function servicePids(namespace) {
  const pids = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const match = /dist\/apps\/([a-z-]+)\/src\/main\.js/.exec(cmdline);
      if (!match) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').includes(`\0TRIGRUN_NAMESPACE=${namespace}\0`)) pids[match[1]] = Number(entry);
    } catch {
      // the process went away while we looked
    }
  }
  return pids;
}

async function stopPlatform(state, launcher) {
  if (launcher && launcher.exitCode === null) {
    await new Promise((resolve) => {
      const timer = setTimeout(() => {
        launcher.kill('SIGKILL');
        resolve();
      }, 45_000);
      launcher.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      launcher.kill('SIGTERM');
    });
  }
  await cleanup(state);
}

/** Deletes the streams and the database of a platform started by startPlatform. */
async function cleanup(state) {
  const { connect } = require('@nats-io/transport-node');
  const { jetstreamManager } = require('@nats-io/jetstream');
  const { Client } = require('pg');
  const nc = await connect({ servers: process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222' });
  const jsm = await jetstreamManager(nc);
  for await (const stream of jsm.streams.list()) {
    if (stream.config.name.startsWith(`${state.namespace.toUpperCase()}_`)) await jsm.streams.delete(stream.config.name);
  }
  await nc.close();
  const pg = new Client({ connectionString: `${state.pgBase}/postgres` });
  await pg.connect();
  await pg.query(`drop database if exists "${state.database}" with (force)`);
  await pg.end();
}

module.exports = { startPlatform, cleanup, servicePids, SERVICES, ROOMY_LIMITS };
