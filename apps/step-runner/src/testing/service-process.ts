import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

/**
 * The built services as real processes, for integration specs that kill them with SIGKILL and
 * start them again. Builds `dist/` first when it is missing.
 */
const root = path.resolve(__dirname, '../../../..');
const mainOf = (app: string) => path.join(root, `dist/apps/${app}/src/main.js`);

export function ensureBuilt(...apps: string[]): void {
  if (apps.some((app) => !existsSync(mainOf(app)))) spawnSync(process.execPath, ['tools/build.mjs'], { cwd: root, stdio: 'inherit' });
}

/**
 * A port nothing listens on, as the kernel hands it out. Specs run in parallel with the e2e
 * platform and each other: a port picked at random collided now and then (EADDRINUSE).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts `app` on `port` with `env` added to this process's environment; resolves once /readyz answers 200. */
export async function startService(app: string, port: number, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [mainOf(app)], {
    cwd: root,
    env: { ...process.env, PORT: String(port), TRIGRUN_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitUntil(async () => {
      if (child.exitCode !== null) throw new Error(`${app} exited with ${child.exitCode} before it was ready`);
      try {
        return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
      } catch {
        return false;
      }
    }, 30_000);
  } catch (error) {
    await killHard(child);
    throw error;
  }
  return child;
}

export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

export async function waitUntil<T>(check: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
