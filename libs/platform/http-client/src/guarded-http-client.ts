import { lookup as dnsLookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Allowlist, parseAllowlist } from './allowlist';
import { checkDestination, type ResolvedAddress } from './destination-policy';
import { joinResponseHeaders, normaliseRequestHeaders } from './headers';
import { parseIp } from './ip-address';
import { type GuardedHttpClientOptions, HTTP_METHODS, type OutboundRequest, type OutboundResult } from './outbound-request';
import { type HopRequest, isFollowedRedirect, requestAfterRedirect } from './redirect-policy';
import { parseTargetUrl, redactedHref, type TargetUrl } from './target-url';

const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
const DEFAULT_USER_AGENT = 'TrigRun';
// Node fires timers longer than this after 1 ms, which would turn a generous deadline into an instant timeout.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How one hop ended, before it is turned into a public result (which needs the deadline's cause and the latency). */
type HopOutcome =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: Buffer; truncated: boolean; location?: string }
  | { kind: 'blocked'; message: string; address?: string }
  | { kind: 'failed'; message: string; code?: string }
  | { kind: 'aborted' };

/**
 * The one way the platform talks to the outside world. Every hop resolves the host itself, checks
 * every resolved address against the outbound policy (docs/outbound-requests.md), then connects with a lookup pinned
 * to exactly those addresses, so a DNS answer that changes between check and connect (rebinding)
 * cannot steer the socket elsewhere.
 *
 * Each request uses its own connection (`agent: false`): nothing is pooled, so no socket opened for
 * one checked destination can be reused for another, and every hop runs the check afresh.
 */
export class GuardedHttpClient {
  private readonly allowlist: Allowlist;
  private readonly userAgent: string;
  private readonly lookup: (host: string) => Promise<ResolvedAddress[]>;

  constructor(opts: GuardedHttpClientOptions = {}) {
    this.allowlist = parseAllowlist(opts.allowlist);
    this.userAgent = opts.userAgent ?? DEFAULT_USER_AGENT;
    this.lookup = opts.lookup ?? systemLookup;
  }

  /**
   * Always resolves with a result for anything the network or the destination does. It rejects only
   * when the request breaks its own contract (unknown method, non-positive timeout): a caller bug.
   */
  async send(req: OutboundRequest): Promise<OutboundResult> {
    assertContract(req);
    const startedAt = performance.now();
    const elapsed = (): number => Math.round(performance.now() - startedAt);

    const parsed = parseTargetUrl(req.url);
    if (!parsed.ok) return { kind: 'invalid_url', message: parsed.message, latencyMs: 0 };

    const maxRedirects = req.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    const maxResponseBytes = req.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const deadline = new RequestDeadline(req.timeoutMs, req.signal);
    try {
      let target = parsed.target;
      let hop: HopRequest = {
        method: req.method,
        headers: normaliseRequestHeaders(req.headers, this.userAgent),
        ...(req.body === undefined ? {} : { body: req.body }),
      };
      for (let redirects = 0; ; redirects++) {
        const outcome = await this.sendHop(target, hop, maxResponseBytes, deadline.signal);
        if (outcome.kind !== 'response') return failureResult(outcome, deadline.cause, req.timeoutMs, elapsed());

        if (outcome.location === undefined) {
          const { status, headers, body, truncated } = outcome;
          const finalUrl = redactedHref(target.url);
          return { kind: 'response', status, headers, body, truncated, latencyMs: elapsed(), finalUrl, redirects };
        }
        if (redirects >= maxRedirects) {
          return connectionError(`more than ${maxRedirects} redirects`, 'TOO_MANY_REDIRECTS', elapsed());
        }
        const next = parseTargetUrl(outcome.location, target.url);
        if (!next.ok) return connectionError(`redirect to an unusable location: ${next.message}`, 'INVALID_REDIRECT', elapsed());
        hop = requestAfterRedirect(outcome.status, hop, target.url, next.target.url);
        target = next.target;
      }
    } finally {
      deadline.dispose();
    }
  }

  private async sendHop(target: TargetUrl, hop: HopRequest, maxResponseBytes: number, signal: AbortSignal): Promise<HopOutcome> {
    const resolved = await this.resolve(target.host, signal);
    if (resolved.kind !== 'resolved') return resolved;
    const verdict = checkDestination(target.host, resolved.addresses, this.allowlist);
    if (!verdict.allowed) return { kind: 'blocked', message: verdict.message, ...optional('address', verdict.address) };
    return exchange(target, hop, resolved.addresses, maxResponseBytes, signal);
  }

  private async resolve(
    host: string,
    signal: AbortSignal,
  ): Promise<{ kind: 'resolved'; addresses: ResolvedAddress[] } | Extract<HopOutcome, { kind: 'failed' | 'aborted' }>> {
    const literal = parseIp(host);
    if (literal !== undefined) return { kind: 'resolved', addresses: [{ address: host, family: literal.version }] };
    try {
      const answer = await untilAborted(this.lookup(host), signal);
      if (answer === ABORTED) return { kind: 'aborted' };
      if (answer.length === 0) return { kind: 'failed', message: `DNS lookup for ${host} returned no address`, code: 'ENOTFOUND' };
      // The family is re-derived from the text: node:net trusts it when racing families.
      const addresses = answer.map(({ address, family }) => ({ address, family: parseIp(address)?.version ?? family }));
      return { kind: 'resolved', addresses };
    } catch (err) {
      const code = errorCode(err);
      const reason = code === undefined ? errorMessage(err) : code;
      return { kind: 'failed', message: `DNS lookup for ${host} failed (${reason})`, ...optional('code', code) };
    }
  }
}

/** One request/response on one fresh connection, which may only go to `addresses`. */
function exchange(
  target: TargetUrl,
  hop: HopRequest,
  addresses: readonly ResolvedAddress[],
  maxResponseBytes: number,
  signal: AbortSignal,
): Promise<HopOutcome> {
  return new Promise<HopOutcome>((resolve) => {
    if (signal.aborted) return resolve({ kind: 'aborted' });
    let request: http.ClientRequest | undefined;
    let settled = false;
    const settle = (outcome: HopOutcome): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      // Also how an unread redirect body or an over-long body is abandoned: the connection is ours alone.
      request?.destroy();
      resolve(outcome);
    };
    const onAbort = (): void => settle({ kind: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });

    const options: https.RequestOptions = {
      protocol: target.url.protocol,
      host: target.host,
      port: target.port,
      method: hop.method,
      path: `${target.url.pathname}${target.url.search}`,
      headers: hop.headers,
      agent: false,
      lookup: pinnedLookup(addresses),
      // Certificates are verified against the name the user wrote, not the address we pinned.
      ...(parseIp(target.host) === undefined ? { servername: target.host } : {}),
      ...(target.auth === undefined ? {} : { auth: target.auth }),
    };
    try {
      request = (target.secure ? https : http).request(options);
    } catch (err) {
      // node:http validates header names and values synchronously.
      return settle({ kind: 'failed', message: `request rejected before sending: ${errorMessage(err)}`, ...codeOf(err) });
    }
    request.on('error', (err) => settle({ kind: 'failed', message: errorMessage(err), ...codeOf(err) }));
    request.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const headers = joinResponseHeaders(res.rawHeaders);
      const location = isFollowedRedirect(status) ? res.headers.location : undefined;
      if (location !== undefined) return settle({ kind: 'response', status, headers, body: Buffer.alloc(0), truncated: false, location });

      const chunks: Buffer[] = [];
      let kept = 0;
      const finish = (truncated: boolean): void =>
        settle({ kind: 'response', status, headers, body: Buffer.concat(chunks, kept), truncated });
      res.on('data', (chunk: Buffer) => {
        const room = maxResponseBytes - kept;
        if (chunk.length <= room) {
          chunks.push(chunk);
          kept += chunk.length;
          return;
        }
        chunks.push(chunk.subarray(0, room));
        kept += room;
        // Stop reading rather than drain: an endless body must not turn a success into a timeout.
        finish(true);
      });
      res.on('end', () => finish(false));
      res.on('error', (err) => settle({ kind: 'failed', message: `response interrupted: ${errorMessage(err)}`, ...codeOf(err) }));
      res.on('close', () => {
        if (!res.complete) settle({ kind: 'failed', message: 'connection closed before the response was complete', code: 'ECONNRESET' });
      });
    });
    request.end(hop.body);
  });
}

/**
 * Hands node:net only the addresses that were checked, whatever DNS would say now. Node asks with
 * `all: true` when it races address families (autoSelectFamily), otherwise for one address.
 */
function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const usable = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
    if (usable.length === 0) {
      const err: NodeJS.ErrnoException = new Error(`no checked IPv${family} address for ${hostname}`);
      err.code = 'ENOTFOUND';
      return callback(err, '');
    }
    if (options.all) return callback(null, usable.map(({ address, family: f }) => ({ address, family: f })));
    return callback(null, usable[0].address, usable[0].family);
  };
}

async function systemLookup(host: string): Promise<ResolvedAddress[]> {
  const answers = await dnsLookup(host, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
}

/** Owns the timer and the caller's signal, and remembers which of the two ended the request. */
class RequestDeadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private endedBy: 'timeout' | 'caller' | undefined;

  constructor(
    timeoutMs: number,
    private readonly external: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(() => this.abort('timeout'), Math.min(timeoutMs, MAX_TIMER_MS));
    if (external?.aborted) this.abort('caller');
    else external?.addEventListener('abort', this.onExternalAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get cause(): 'timeout' | 'caller' | undefined {
    return this.endedBy;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.external?.removeEventListener('abort', this.onExternalAbort);
  }

  private readonly onExternalAbort = (): void => this.abort('caller');

  private abort(cause: 'timeout' | 'caller'): void {
    if (this.endedBy !== undefined) return;
    this.endedBy = cause;
    this.controller.abort();
  }
}

const ABORTED = Symbol('aborted');

/** dns.lookup cannot be cancelled; stop waiting for it instead. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function assertContract(req: OutboundRequest): void {
  if (!(HTTP_METHODS as readonly string[]).includes(req.method)) throw new TypeError(`unsupported HTTP method "${req.method}"`);
  if (!(Number.isFinite(req.timeoutMs) && req.timeoutMs > 0)) {
    throw new RangeError(`timeoutMs must be a positive number, got ${req.timeoutMs}`);
  }
  for (const [name, value] of [
    ['maxRedirects', req.maxRedirects],
    ['maxResponseBytes', req.maxResponseBytes],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
      throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
    }
  }
}

function failureResult(
  outcome: Exclude<HopOutcome, { kind: 'response' }>,
  endedBy: 'timeout' | 'caller' | undefined,
  timeoutMs: number,
  latencyMs: number,
): OutboundResult {
  switch (outcome.kind) {
    case 'aborted':
      return endedBy === 'caller'
        ? connectionError('request aborted by the caller', 'ABORTED', latencyMs)
        : { kind: 'timeout', message: `no complete response within ${timeoutMs} ms`, latencyMs };
    case 'blocked':
      return { kind: 'blocked', message: outcome.message, ...optional('address', outcome.address), latencyMs };
    case 'failed':
      // The kernel gives up on a connect after ~2 minutes, which can be inside a long job deadline; it is still a timeout.
      if (outcome.code === 'ETIMEDOUT') return { kind: 'timeout', message: outcome.message, latencyMs };
      return connectionError(outcome.message, outcome.code, latencyMs);
    default:
      return assertNever(outcome);
  }
}

function connectionError(message: string, code: string | undefined, latencyMs: number): OutboundResult {
  return { kind: 'connection_error', message, ...optional('code', code), latencyMs };
}

/** Leaves optional result fields out entirely rather than present-but-undefined, so results compare and serialise cleanly. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function codeOf(err: unknown): { code?: string } {
  return optional('code', errorCode(err));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function assertNever(value: never): never {
  throw new Error(`unhandled hop outcome ${JSON.stringify(value)}`);
}
