import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The base URL of the platform that global-setup started. */
export const BASE_URL = process.env.TRIGRUN_E2E_BASE_URL ?? 'http://127.0.0.1:3000';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A thin HTTP client: the only way e2e specs talk to the platform. */
export async function api<T = any>(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${BASE_URL}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (HTML docs, for instance)
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

export interface Account {
  token: string;
  email: string;
  password: string;
  workspaceId: string;
  userId: string;
}

/** A fresh account and workspace: each spec owns its data. */
export async function signup(prefix = 'user'): Promise<Account> {
  const email = `${prefix}-${randomBytes(6).toString('hex')}@example.test`;
  const password = 'correct horse battery';
  const res = await api('POST', '/v1/auth/signup', {
    body: { name: prefix, email, password, workspace_name: `${prefix} workspace`, timezone: 'UTC' },
  });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
  return { token: res.body.token, email, password, workspaceId: res.body.workspace.id, userId: res.body.user.id };
}

/** Polls until `check` returns a value or the deadline passes. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export async function waitForExecution(token: string, id: string, statuses = ['succeeded', 'failed'], timeoutMs = 20_000) {
  return eventually(
    async () => {
      const res = await api('GET', `/v1/executions/${id}`, { token });
      return res.status === 200 && statuses.includes(res.body.status) ? res.body : undefined;
    },
    timeoutMs,
    `execution ${id} to reach ${statuses.join('|')}`,
  );
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Target {
  url: string;
  received: ReceivedRequest[];
  /** Sets how the next requests are answered, in order; the last one repeats. */
  respondWith(...responses: Array<{ status: number; body?: string; headers?: Record<string, string>; delayMs?: number }>): void;
  close(): Promise<void>;
}

/** A local HTTP server that jobs call: records what it receives, answers as told. */
export async function startTarget(): Promise<Target> {
  const received: ReceivedRequest[] = [];
  let responses: Array<{ status: number; body?: string; headers?: Record<string, string>; delayMs?: number }> = [{ status: 200, body: 'ok' }];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const next = responses.length > 1 ? responses.shift()! : responses[0];
      setTimeout(() => {
        res.writeHead(next.status, { 'content-type': 'text/plain', ...(next.headers ?? {}) });
        res.end(next.body ?? '');
      }, next.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    respondWith: (...r) => {
      responses = r;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
