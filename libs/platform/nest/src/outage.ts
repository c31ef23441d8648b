/**
 * Recognises an error that means "a dependency is away" — PostgreSQL, NATS or Redis not reachable,
 * restarting, or not answering in time — whatever layer threw it and however it was wrapped
 * (MikroORM's DriverException, knex, pg, nats.js, ioredis, our own `append … failed` with a
 * `cause`). The HTTP edge answers such an error with `503 unavailable` and `Retry-After`, never a
 * 500: nothing the client sent is wrong, and the same request may be repeated
 * (docs/failure-behaviour.md).
 *
 * Classified by what the libraries expose (error names, Node's socket codes, PostgreSQL's
 * SQLSTATE classes) rather than by any one call site, so a path nobody listed is covered too.
 */
export type Dependency = 'postgres' | 'nats' | 'redis';

/** Node's socket errors: a connection that could not be made, or was cut. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/**
 * PostgreSQL's own "I cannot serve you now": class 08 (connection exception), 57P01–57P03
 * (shutting down, crashed, starting up), 53300 (too many connections).
 */
const isOutageSqlState = (code: string) => /^08[0-9A-Z]{3}$/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';

/** Messages of pg and knex that carry no code. */
const PG_MESSAGES = [/Connection terminated/, /Connection ended unexpectedly/, /not queryable/, /Knex: Timeout acquiring a connection/, /timeout exceeded when trying to connect/];
/** nats.js error names for a connection that is gone or a request nobody answered in time. */
const NATS_NAMES = new Set(['TimeoutError', 'ClosedConnectionError', 'DrainingConnectionError', 'ConnectionError', 'NoResponders', 'NoRespondersError', 'JetStreamNotEnabled']);
/** ioredis: a command given up after its retries, on a closed connection, or past commandTimeout. */
const REDIS_MESSAGES = [/^Connection is closed\.?$/, /^Command timed out$/, /enableOfflineQueue options is false/, /^Reached the max retries per request limit/];

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function classifyOne(e: ErrorLike): Dependency | 'socket' | null {
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const code = typeof e.code === 'string' ? e.code : '';
  if (name === 'ConnectionException' || name === 'KnexTimeoutError') return 'postgres';
  if (/^[0-9A-Z]{5}$/.test(code) && isOutageSqlState(code)) return 'postgres';
  if (PG_MESSAGES.some((m) => m.test(message))) return 'postgres';
  if (name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((m) => m.test(message))) return 'redis';
  if (NATS_NAMES.has(name)) return 'nats';
  if (name === 'JetStreamError' && /no responders|503/i.test(message)) return 'nats';
  if (SOCKET_CODES.has(code)) return 'socket';
  return null;
}

/** The dependency `error` says is away, or null when it says something else. */
export function dependencyOutage(error: unknown): Dependency | 'unknown' | null {
  // Breadth-first through causes and aggregated errors (pg's connect to a host with two
  // addresses fails with an AggregateError of two ECONNREFUSED), bounded against cycles.
  const queue: unknown[] = [error];
  let socket = false;
  let origin: Dependency | null = null;
  for (let seen = 0; queue.length > 0 && seen < 16; seen++) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object') continue;
    const found = classifyOne(e as ErrorLike);
    if (found === 'socket') socket = true;
    else if (found) return found;
    origin ??= originOf(e as ErrorLike);
    const { cause, errors } = e as ErrorLike;
    if (cause !== undefined) queue.push(cause);
    if (Array.isArray(errors)) queue.push(...errors.slice(0, 4));
  }
  // A bare socket error: whose socket is said by the wrapper it came through, if any.
  return socket ? (origin ?? 'unknown') : null;
}

/** Which client a wrapper belongs to, by its name or message ("append to … failed" is the event store's). */
function originOf(e: ErrorLike): Dependency | null {
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (/Exception$/.test(name)) return 'postgres';
  if (/^append to \S+ failed/.test(message) || /^Nats|JetStream/.test(name)) return 'nats';
  if (/redis/i.test(name) || /redis/i.test(message)) return 'redis';
  return null;
}

/** What a client is told to wait before repeating a request refused for an outage, in seconds. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;
