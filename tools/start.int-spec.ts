import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type Platform, servicePids, startPlatform } from './harness.cjs';

/**
 * `npm start` supervises (tools/start.mjs): a platform started by the harness, exactly as the
 * e2e suite and the benchmarks start theirs, has a service SIGKILLed by pid and must bring it
 * back while the others keep serving; a service killed past its crash budget must stop the whole
 * platform with a message that says so, and leave no process behind; a nats-server the launcher
 * started itself is restarted too. The platform runs from dist/ (`node tools/build.mjs`;
 * `npm test` builds before jest).
 */
jest.setTimeout(180_000);

const RESTART_LIMIT = 3;
const RESTART_WINDOW = '60s';
const root = path.resolve(__dirname, '..');

let platform: Platform;
let output = '';
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

function watch(started: Platform): void {
  output = '';
  const keep = (chunk: Buffer) => (output += chunk);
  started.launcher.stdout!.on('data', keep);
  started.launcher.stderr!.on('data', keep);
  exited = new Promise((resolve) => started.launcher.once('exit', (code, signal) => resolve({ code, signal })));
}

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
async function apiAnswers(): Promise<string> {
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
  return token;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist/apps/api-gateway/src/main.js'))) throw new Error('dist/ is missing: run `node tools/build.mjs` first');
});

describe('services', () => {
  beforeAll(async () => {
    platform = await startPlatform({
      label: 'supervise',
      env: { TRIGRUN_RESTART_DELAY: '500ms', TRIGRUN_RESTART_MAX_DELAY: '2s', TRIGRUN_RESTART_LIMIT: `${RESTART_LIMIT}/${RESTART_WINDOW}` },
    });
    watch(platform);
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
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(500, () => (socket.destroy(), resolve(false)));
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** The pid of the process whose command line starts with `prefix` (NUL-separated argv). */
function pidByCommandLine(prefix: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith(prefix)) return Number(entry);
    } catch {
      // gone while we looked
    }
  }
  return undefined;
}

describe('infrastructure the launcher started itself', () => {
  let stateDir: string;
  let natsPort: number;
  let redisPort: number;
  const hits: string[] = [];
  const target = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    stateDir = mkdtempSync(path.join(tmpdir(), 'trigrun-state-'));
    [natsPort, redisPort] = [await freePort(), await freePort()];
    // Nothing answers on these ports, so the launcher starts nats-server and redis-server itself,
    // with their data in the temporary state directory (never the machine's own servers).
    platform = await startPlatform({
      label: 'supinfra',
      env: {
        TRIGRUN_STATE_DIR: stateDir,
        TRIGRUN_NATS_URL: `nats://127.0.0.1:${natsPort}`,
        TRIGRUN_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        TRIGRUN_RESTART_DELAY: '500ms',
      },
    });
    watch(platform);
  });

  afterAll(async () => {
    await platform?.stop();
    await new Promise((resolve) => target.close(resolve));
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('restarts a SIGKILLed nats-server, the platform runs jobs again, and stopping (SIGTERM, as Ctrl-C) leaves nothing running', async () => {
    const natsConf = path.join(stateDir, 'nats-server', 'nats.conf');
    const nats = await until('the nats-server the launcher started', () => pidByCommandLine(`nats-server\0-c\0${natsConf}\0`));
    // Redis rewrites its process title to "redis-server <addr>:<port>".
    const redis = await until('the redis-server the launcher started', () => pidByCommandLine(`redis-server 127.0.0.1:${redisPort}`));
    const token = await apiAnswers();

    process.kill(nats, 'SIGKILL');
    await until('the launcher logs the crash', () => output.includes(`nats-server (pid ${nats}) killed by SIGKILL`));
    const restarted = await until('a new nats-server', () => {
      const pid = pidByCommandLine(`nats-server\0-c\0${natsConf}\0`);
      return pid !== undefined && pid !== nats ? pid : undefined;
    });
    // The process shows in /proc a moment before the launcher's line about it: wait for the line.
    await until('the launcher logs the restart', () => output.includes(`nats-server restarted (pid ${restarted})`));
    expect(output).toContain(`nats-server restarted (pid ${restarted})`);
    // The services were not restarted: they reconnect to the restarted server.
    expect(output).not.toMatch(/(api-gateway|scheduler|trigger-ingest|step-runner|notifier) \(pid \d+\) (killed|exit)/);

    // A job accepted after the restart runs: its create publishes to JetStream, the step-runner
    // consumes from it and calls the target.
    const create = await until('a one_time job is accepted', async () => {
      const res = await fetch(`${platform.baseUrl}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'after-restart', kind: 'one_time', request: { url: `http://127.0.0.1:${(target.address() as net.AddressInfo).port}/after-restart` } }),
      });
      return res.status === 201 ? res : undefined;
    });
    expect(create.status).toBe(201);
    await until('the target is called', () => hits.includes('/after-restart'));

    await platform.stop();
    expect((await exited).code).toBe(0);
    for (const pid of [nats, restarted, redis]) {
      expect(() => process.kill(pid, 0)).toThrow();
    }
    expect(await accepts(natsPort)).toBe(false);
    expect(await accepts(redisPort)).toBe(false);
    expect(servicePids(platform.namespace)).toEqual({});
  });
});
