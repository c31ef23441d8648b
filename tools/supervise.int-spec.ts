import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * tools/supervise.mjs, which runs the infrastructure `npm start` starts itself, restarts its
 * server when it is SIGKILLed (with the backoff and crash budget of the services), gives up with
 * a message past the budget, and stops cleanly on SIGTERM even while waiting out a backoff.
 * Private servers on free ports with data in temporary folders: never the machine's own.
 */
jest.setTimeout(60_000);

const root = path.resolve(__dirname, '..');
const has = (binary: string) => spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/**
 * pids of the server processes the supervisor runs: its children. (Not by command line: Redis
 * rewrites its process title.)
 */
function serverPids(supervisor: ChildProcess): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after ")".
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(ppid) === supervisor.pid && state !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000}s`);
    await sleep(50);
  }
}

interface Supervised {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function supervise(argv: string[], env: Record<string, string>): Supervised {
  const child = spawn(process.execPath, ['tools/supervise.mjs', ...argv], { cwd: root, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

const dirs: string[] = [];
const running: Supervised[] = [];
afterAll(async () => {
  // SIGTERM, not SIGKILL: the supervisor must stop its server, or it would outlive the test.
  for (const s of running) if (s.child.exitCode === null) s.child.kill('SIGTERM');
  await Promise.all(running.map((s) => s.exited));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const servers = [
  { name: 'nats-server', argv: (port: number, dir: string) => ['nats-server', '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir] },
  { name: 'redis-server', argv: (port: number, dir: string) => ['redis-server', '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', ''] },
];

describe.each(servers)('$name under tools/supervise.mjs', ({ name, argv }) => {
  const installed = has(name);
  // Skipped, saying why, only when the Debian package is absent (`npm start` asks for it then too).
  const run = (title: string, test: () => Promise<void>) => (installed ? it(title, test) : it.skip(`${title} (skipped: ${name} is not installed; apt-get install ${name})`, test));

  run('restarts it after SIGKILL, then gives up past the crash budget and leaves nothing running', async () => {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'trigrun-supervise-'));
    dirs.push(dir);
    const s = supervise(argv(port, dir), { TRIGRUN_RESTART_DELAY: '200ms', TRIGRUN_RESTART_LIMIT: '3/60s' });
    running.push(s);
    await until('ready', () => s.output().includes('[supervise] ready'));
    await until(`${name} accepts connections`, () => accepts(port));

    const first = serverPids(s.child);
    expect(first).toHaveLength(1);
    process.kill(first[0], 'SIGKILL');
    const second = await until('a new server process', () => {
      const pids = serverPids(s.child);
      return pids.length === 1 && pids[0] !== first[0] ? pids[0] : undefined;
    });
    await until(`${name} accepts connections again`, () => accepts(port));
    expect(s.output()).toMatch(new RegExp(`\\[supervise\\] ${name} \\(pid ${first[0]}\\) killed by SIGKILL after [\\d.]+(?:ms|s|m); restarting it in 200ms \\(at [^;]+; crash 1 of 3 allowed within 1m\\)`));
    expect(s.output()).toContain(`[supervise] ${name} restarted (pid ${second})`);

    process.kill(second, 'SIGKILL');
    const third = await until('a third server process', () => {
      const pids = serverPids(s.child);
      return pids.length === 1 && pids[0] !== second ? pids[0] : undefined;
    });
    process.kill(third, 'SIGKILL');

    expect(await s.exited).toBe(1);
    expect(s.output()).toContain(`[supervise] ${name} (pid ${third}) killed by SIGKILL`);
    expect(s.output()).toContain('it crashed 3 times within 1m; not restarting it');
    for (const pid of [first[0], second, third]) expect(alive(pid)).toBe(false);
    expect(await accepts(port)).toBe(false);
  });

  run('SIGTERM while it waits out a backoff stops it for good', async () => {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'trigrun-supervise-'));
    dirs.push(dir);
    const s = supervise(argv(port, dir), { TRIGRUN_RESTART_DELAY: '3s' });
    running.push(s);
    await until('ready', () => s.output().includes('[supervise] ready'));
    const [pid] = await until('the server process', () => (serverPids(s.child).length === 1 ? serverPids(s.child) : undefined));
    process.kill(pid, 'SIGKILL');
    await until('the crash is logged', () => s.output().includes('restarting it in 3s'));
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    await sleep(3500); // past the backoff: nothing may start any more
    expect(alive(pid)).toBe(false);
    expect(await accepts(port)).toBe(false);
    expect(s.output()).not.toContain('restarted');
  });
});
