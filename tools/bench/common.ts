import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Shared pieces of the benchmarks: HTTP calls, a recording target, percentiles, memory probes. */
export async function call(baseUrl: string, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function signup(baseUrl: string): Promise<string> {
  const res = await call(baseUrl, 'POST', '/v1/auth/signup', undefined, {
    name: 'bench',
    email: `bench-${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`,
    password: 'benchmark password',
    workspace_name: 'bench',
    timezone: 'UTC',
  });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

/** Runs `task` over `items` with at most `concurrency` in flight. */
export async function pool<T>(items: T[], concurrency: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await task(items[i], i);
      }
    }),
  );
}

export interface RecordingTarget {
  url: string;
  /** receive time (ms since epoch) of each request, whatever its path, in arrival order */
  arrivals: number[];
  /** receive times of the requests whose path starts with `pathPrefix`, in arrival order */
  arrivalsFor(pathPrefix: string): number[];
  close(): Promise<void>;
}

export async function recordingTarget(): Promise<RecordingTarget> {
  const arrivals: number[] = [];
  // Paths kept alongside, so one target can serve traffic that is counted apart (the platform's
  // requests and the scheduler benchmark's floor client).
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    arrivals.push(Date.now());
    paths.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    arrivalsFor: (pathPrefix) => arrivals.filter((_, i) => paths[i].startsWith(pathPrefix)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Resident memory of a process in MiB: current (VmRSS) and peak since it started (VmHWM). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Samples the RSS of each pid every `everyMs`; `stop()` returns the maximum seen per name. */
export function sampleMemory(pids: Record<string, number>, everyMs = 100) {
  const max: Record<string, number> = {};
  const tick = () => {
    for (const [name, pid] of Object.entries(pids)) {
      try {
        max[name] = Math.max(max[name] ?? 0, memoryOf(pid).rss);
      } catch {
        // exited
      }
    }
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      tick();
      return max;
    },
  };
}

export const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Prints a Markdown table, right-aligned. */
export function table(header: string[], rows: string[][]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

const TICKS_PER_SECOND = 100; // USER_HZ; `getconf CLK_TCK` is 100 on Linux

/** utime+stime+cutime+cstime of a process in seconds (children count once reaped: postgres backends). */
export function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14..17
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
}

/** CPU seconds so far of each named pid, this process, and every nats-server / postgres process of the machine. */
export function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    try {
      out[name] = cpuOf(pid);
    } catch {
      out[name] = NaN; // exited
    }
  }
  const usage = process.cpuUsage();
  out['bench client (this process)'] = (usage.user + usage.system) / 1e6;
  out['nats-server (machine-wide)'] = 0;
  out['postgres (machine-wide)'] = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'nats-server') out['nats-server (machine-wide)'] += cpuOf(Number(entry));
      else if (comm === 'postgres') out['postgres (machine-wide)'] += cpuOf(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

/** One gauge from a Prometheus text endpoint; undefined if it cannot be read. */
export async function gauge(metricsUrl: string, name: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(metricsUrl)).text();
    const m = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
