// Stops the platform the way Ctrl-C does, then removes everything the run created.
const { readFileSync, rmSync } = require('node:fs');
const path = require('node:path');
const { Client } = require('pg');

const STATE = path.resolve(__dirname, '../../dist/e2e-platform.json');

module.exports = async () => {
  const launcher = globalThis.__TRIGRUN_LAUNCHER__;
  let state;
  try {
    state = JSON.parse(readFileSync(STATE, 'utf8'));
  } catch {
    return;
  }
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
  const { connect } = require('@nats-io/transport-node');
  const { jetstreamManager } = require('@nats-io/jetstream');
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
  rmSync(STATE, { force: true });
};
