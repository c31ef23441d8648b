import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestKind, SentRequest } from './verdict';

/** The local target every execution calls: `POST /t/<execution_id>`, answered 200 at once, counted per execution. */
export interface Target {
  readonly url: string;
  /** arrival times (ms since the epoch) of the requests for each execution id */
  readonly received: Map<string, number[]>;
  close(): Promise<void>;
}

/**
 * `delayMs`: each answer waits a random 0..delayMs, as a real target's would, so that at any
 * moment some executions are between sending their request and recording its attempt: the
 * window in which a broker restart stranded executions (issue 10). An instant target hides it.
 */
export async function startTarget(delayMs: number): Promise<Target> {
  const received = new Map<string, number[]>();
  const server: Server = createServer((req, res) => {
    const id = /^\/t\/([^/?]+)/.exec(req.url ?? '')?.[1];
    if (id) received.set(id, [...(received.get(id) ?? []), Date.now()]);
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'), Math.random() * delayMs));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function call(base: string, method: string, path: string, token?: string, body?: unknown, timeoutMs = 15_000): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // fastify's default bodies are JSON; anything else is kept as text for the log
  }
  return { status: res.status, body: parsed };
}

/** A string field of a JSON object answer, if it is one. */
export function field(body: unknown, key: string): string | undefined {
  const value = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

export interface LoadOptions {
  readonly base: string;
  readonly token: string;
  readonly targetUrl: string;
  /** requests per second, alternating one_time creates and run-nows */
  readonly rate: number;
  readonly workflowJobIds: readonly string[];
  readonly timeoutMs: number;
  /** requests allowed in flight at once; a tick beyond it is counted as skipped, not queued */
  readonly maxInFlight: number;
}

/**
 * A steady open-loop load: requests are sent on the clock whatever the answers do (a client that
 * waits for answers would slow down exactly when the platform does and hide the stall).
 */
export class Load {
  readonly requests: SentRequest[] = [];
  skipped = 0;
  private inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private sent = 0;
  private startedAt = 0;

  constructor(private readonly options: LoadOptions) {}

  start() {
    this.startedAt = Date.now();
    this.timer = setInterval(() => this.tick(), 5);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.inFlight]);
  }

  private tick() {
    const due = Math.floor(((Date.now() - this.startedAt) * this.options.rate) / 1000);
    while (this.sent < due) {
      const n = this.sent++;
      if (this.inFlight.size >= this.options.maxInFlight) {
        this.skipped++;
        continue;
      }
      const p = this.one(n % 2 === 0 ? 'create' : 'run-now', n).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  private async one(kind: RequestKind, n: number): Promise<void> {
    const { base, token, targetUrl, workflowJobIds, timeoutMs } = this.options;
    const rid = `r${n}`;
    const jobId = kind === 'run-now' ? workflowJobIds[n % workflowJobIds.length] : '';
    const sentAt = Date.now();
    let status: number | null = null;
    let id: string | null = null;
    let failure: SentRequest['failure'] = null;
    let code: string | null = null;
    try {
      if (kind === 'create') {
        const res = await call(
          base,
          'POST',
          '/v1/jobs',
          token,
          {
            name: `faults-${rid}`,
            kind: 'one_time',
            request: { url: `${targetUrl}/t/{{execution_id}}`, method: 'POST', body: { rid }, timeout_seconds: 10 },
            retry_policy: { max_attempts: 1 },
          },
          timeoutMs,
        );
        status = res.status;
        code = errorCode(res.body);
        if (res.status === 201) id = field(res.body, 'id') ?? null;
      } else {
        const res = await call(base, 'POST', `/v1/jobs/${jobId}/run-now`, token, undefined, timeoutMs);
        status = res.status;
        code = errorCode(res.body);
        if (res.status === 202) id = field(res.body, 'id') ?? null;
      }
      // A 2xx without the id it promises stays acknowledged with id null: the verdict counts it lost.
    } catch (e) {
      status = null;
      failure = (e as Error).name === 'TimeoutError' ? 'timeout' : 'connection';
    }
    this.requests.push({ rid, kind, sentAt, doneAt: Date.now(), status, id, jobId, failure, code });
  }
}

/** The envelope's `error.code` of a non-2xx answer; `(no envelope)` for a body that is not one (fastify's default 503). */
function errorCode(body: unknown): string | null {
  if (body === null || typeof body !== 'object') return typeof body === 'string' ? '(no envelope)' : null;
  const error = (body as { error?: { code?: unknown } }).error;
  if (error && typeof error === 'object' && typeof error.code === 'string') return error.code;
  return 'error' in body || 'statusCode' in body ? '(no envelope)' : null;
}
