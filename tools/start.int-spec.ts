import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { type Platform, servicePids, startPlatform } from './harness.cjs';

/**
 * `npm start` supervises (tools/start.mjs): a platform started by the harness, exactly as the
 * e2e suite and the benchmarks start theirs, has a service SIGKILLed by pid and must bring it
 * back while the others keep serving; a service killed past its crash budget must stop the whole
 * platform with a message that says so, and leave no process behind. The platform runs from
 * dist/ (`node tools/build.mjs`; `npm test` builds before jest).
 */
jest.setTimeout(180_000);

const RESTART_LIMIT = 3;
const RESTART_WINDOW = '60s';
const root = path.resolve(__dirname, '..');

let platform: Platform;
let output = '';
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000}s; launcher output:\n${output}`);
    await sleep(100);
  }
}

async function readyz(port: number): Promise<number | undefined> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) })).status;
  } catch {
    return undefined;
  }
}

/** A fresh account, and the API answering an authenticated request with its token. */
async function apiAnswers(): Promise<void> {
  const email = `supervise-${randomBytes(6).toString('hex')}@example.test`;
  const signup = await fetch(`${platform.baseUrl}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Sup', email, password: 'correct horse battery', workspace_name: 'Supervised', timezone: 'UTC' }),
  });
  expect(signup.status).toBe(201);
  const { token } = (await signup.json()) as { token: string };
  const workspaces = await fetch(`${platform.baseUrl}/v1/workspaces`, { headers: { authorization: `Bearer ${token}` } });
  expect(workspaces.status).toBe(200);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  if (!existsSync(path.join(root, 'dist/apps/api-gateway/src/main.js'))) throw new Error('dist/ is missing: run `node tools/build.mjs` first');
  platform = await startPlatform({
    label: 'supervise',
    env: { TRIGRUN_RESTART_DELAY: '500ms', TRIGRUN_RESTART_MAX_DELAY: '2s', TRIGRUN_RESTART_LIMIT: `${RESTART_LIMIT}/${RESTART_WINDOW}` },
  });
  const keep = (chunk: Buffer) => (output += chunk);
  platform.launcher.stdout!.on('data', keep);
  platform.launcher.stderr!.on('data', keep);
  exited = new Promise((resolve) => platform.launcher.once('exit', (code, signal) => resolve({ code, signal })));
});

afterAll(async () => {
  await platform?.stop();
});

it('restarts a SIGKILLed service, says so, and the others keep serving meanwhile', async () => {
  await apiAnswers();
  const before = platform.servicePids();
  expect(Object.keys(before).sort()).toEqual(['api-gateway', 'notifier', 'scheduler', 'step-runner', 'trigger-ingest']);
  const killed = before['api-gateway'];

  process.kill(killed, 'SIGKILL');
  await until('the launcher logs the crash', () => output.includes(`api-gateway (pid ${killed}) killed by SIGKILL`));
  // While the gateway is down, the other services still answer.
  expect(await readyz(platform.port + 1)).toBe(200); // scheduler

  const restarted = await until('api-gateway has a new pid', () => {
    const pid = platform.servicePids()['api-gateway'];
    return pid !== undefined && pid !== killed ? pid : undefined;
  });
  await until('api-gateway is ready again', async () => (await readyz(platform.port)) === 200);
  await apiAnswers();

  expect(output).toMatch(new RegExp(`api-gateway \\(pid ${killed}\\) killed by SIGKILL after [\\d.]+(?:ms|s|m); restarting it in 500ms \\(at \\d{4}-\\d\\d-\\d\\dT[^;]+; crash 1 of ${RESTART_LIMIT} allowed within 1m\\)`));
  expect(output).toContain(`api-gateway restarted (pid ${restarted})`);
  await until('the launcher logs that it is ready again', () => output.includes(`api-gateway is ready again (pid ${restarted}`));

  // Only the killed service was restarted.
  const after = platform.servicePids();
  for (const name of ['scheduler', 'trigger-ingest', 'step-runner', 'notifier']) expect(after[name]).toBe(before[name]);
  expect(after['api-gateway']).toBe(restarted);
});

it('stops everything, saying why, when a service keeps crashing', async () => {
  const before = platform.servicePids();
  const killed: number[] = [];
  for (let crash = 1; crash <= RESTART_LIMIT; crash++) {
    // Each new process is killed as soon as it exists: a service that dies while booting, over and over.
    const pid = await until(`notifier's process #${crash}`, () => {
      const current = platform.servicePids().notifier;
      return current !== undefined && !killed.includes(current) ? current : undefined;
    });
    process.kill(pid, 'SIGKILL');
    killed.push(pid);
  }

  const { code } = await until('the launcher exits', () => Promise.race([exited, sleep(100).then(() => undefined)]), 90_000);
  expect(code).toBe(1);
  expect(output).toMatch(
    new RegExp(`notifier \\(pid ${killed.at(-1)}\\) killed by SIGKILL after [\\d.]+(?:ms|s|m): it crashed ${RESTART_LIMIT} times within 1m \\(TRIGRUN_RESTART_LIMIT=${RESTART_LIMIT}/1m\\); not restarting it, stopping everything`),
  );
  expect(output).toContain('stopping services…');
  expect(output).toContain('[trigrun] stopped');

  // Nothing left: no service of this platform, none of the killed or earlier pids.
  expect(servicePids(platform.namespace)).toEqual({});
  for (const pid of [...Object.values(before), ...killed]) expect(alive(pid)).toBe(false);
  expect(alive(platform.launcher.pid!)).toBe(false);
});
