// Boots the whole platform with `tools/start.mjs` — the same launcher as `npm start` — in its own
// namespace, database and port range, so e2e runs never touch a developer's data and can run
// beside a running instance. Specs then drive it only over HTTP.
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { writeFileSync } = require('node:fs');
const path = require('node:path');
const net = require('node:net');

const root = path.resolve(__dirname, '../..');
const STATE = path.join(root, 'dist', 'e2e-platform.json');

function freePortRange(count) {
  // A base port whose next `count` ports are free.
  return new Promise((resolve, reject) => {
    const tryBase = (attempt) => {
      if (attempt > 50) return reject(new Error('no free port range'));
      const base = 20000 + Math.floor(Math.random() * 20000);
      Promise.all(Array.from({ length: count }, (_, i) => isFree(base + i))).then((free) =>
        free.every(Boolean) ? resolve(base) : tryBase(attempt + 1),
      );
    };
    tryBase(0);
  });
}

function isFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

module.exports = async () => {
  const id = randomBytes(4).toString('hex');
  const port = await freePortRange(5);
  const namespace = `e2e${id}`;
  const database = `trigrun_e2e_${id}`;
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
  };
  const launcher = spawn(process.execPath, ['tools/start.mjs', '--no-install', '--no-build'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk) => {
    output += chunk;
    if (process.env.TRIGRUN_E2E_VERBOSE) process.stderr.write(chunk);
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

  const state = { baseUrl: `http://127.0.0.1:${port}`, port, namespace, database, pgBase, pid: launcher.pid };
  writeFileSync(STATE, JSON.stringify(state));
  process.env.TRIGRUN_E2E_BASE_URL = state.baseUrl;
  globalThis.__TRIGRUN_LAUNCHER__ = launcher;
};
