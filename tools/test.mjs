#!/usr/bin/env node
// `npm test`: the whole suite, from a fresh clone. Installs what is missing, then
//   lint (incl. Nx module boundaries) → type-check → build → jest: unit, integration (real local
//   NATS, PostgreSQL and Redis) and e2e (the started platform, driven over HTTP).
// Extra arguments go to jest, e.g. `npm test -- --selectProjects unit`.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installIfNeeded, reachable } from './install.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (line) => process.stdout.write(`[test] ${line}\n`);
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };

function step(name, cmd, argv) {
  const started = Date.now();
  log(`${name}…`);
  const result = spawnSync(cmd, argv, { cwd: root, env, stdio: 'inherit' });
  if (result.status !== 0) {
    log(`${name} failed`);
    process.exit(result.status ?? 1);
  }
  log(`${name} ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

installIfNeeded(root, log);
const missing = [];
for (const [name, port] of [['PostgreSQL', 5432], ['NATS', 4222], ['Redis', 6379]]) if (!(await reachable('127.0.0.1', port))) missing.push(`${name} (127.0.0.1:${port})`);
if (missing.length) {
  log(`integration and e2e tests need ${missing.join(', ')}; start them (see README, "Testing") and run again`);
  process.exit(1);
}

step('project graph', 'npx', ['nx', 'show', 'projects', '--json']);
step('lint', 'npx', ['eslint', '--max-warnings=0', 'apps', 'libs', 'test', 'deploy']);
step('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
step('build', 'node', ['tools/build.mjs']);

const resultsFile = path.join(root, 'dist', 'jest-results.json');
const jest = spawnSync('npx', ['jest', '--ci', '--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
let summary = '';
try {
  const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
  summary = `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + (r.numTodoTests ?? 0)} skipped`;
} catch {
  summary = '0 passed, 1 failed';
}
// The plain closing line CI reads: "N passed, N failed".
process.stdout.write(`\n${summary}\n`);
process.exit(jest.status ?? 1);
