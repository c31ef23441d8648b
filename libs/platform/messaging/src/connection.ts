import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { skipReplyDispatchStacks } from './reply-dispatch';
import { coalesceWrites } from './write-coalescing';
import { answersWithin } from '@trigrun/util';

export interface Messaging {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

/**
 * How long a request path (an HTTP request waiting for its answer) waits for one JetStream round
 * trip. The background work (the engine, consumers) keeps the connection's 10 s: it has no
 * client waiting and rather waits than redoes. See docs/failure-behaviour.md.
 */
export const REQUEST_PATH_TIMEOUT_MS = 2_000;

/**
 * Whether each connection is attached to a server right now, as its status events say. nats.js
 * buffers a publish made while it reconnects and lets it wait for its whole timeout; a request
 * path asks this first, so it refuses at once what it could only wait for.
 */
const attached = new WeakMap<NatsConnection, { connected: boolean }>();

function trackLink(nc: NatsConnection): void {
  const link = { connected: true };
  attached.set(nc, link);
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'staleConnection' || s.type === 'close') link.connected = false;
      else if (s.type === 'reconnect') link.connected = true;
    }
  })().catch(() => undefined);
  void nc.closed().then(() => {
    link.connected = false;
  });
}

export async function connectMessaging(url: string, name: string): Promise<Messaging> {
  // noAsyncTraces: by default nats.js builds a RequestError and a TimeoutError (each capturing a
  // stack trace) up front for every request — every JetStream publish — just in case it fails;
  // under load that was several % of a service's CPU. Failures keep their messages, codes and
  // causes; our callers wrap them after an `await`, where async stack traces show the call site.
  // pingInterval/maxPingOut: a server that stopped answering without closing the socket (a frozen
  // process, a cut network) is noticed within about 15 s instead of nats.js's default 4 minutes.
  const nc = await connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 500, noAsyncTraces: true, pingInterval: 5_000, maxPingOut: 2 });
  trackLink(nc);
  coalesceWrites(nc);
  skipReplyDispatchStacks(nc);
  const js = jetstream(nc, { timeout: 10_000 });
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  return { nc, js, jsm };
}

/** A JetStream client on the same connection whose calls give up after `timeoutMs` (REQUEST_PATH_TIMEOUT_MS for HTTP requests). */
export function jetStreamWithin(messaging: Messaging, timeoutMs = REQUEST_PATH_TIMEOUT_MS): JetStreamClient {
  return jetstream(messaging.nc, { timeout: timeoutMs });
}

/** A JetStream manager on the same connection whose calls give up after `timeoutMs` (reads on request paths: an execution's last sequence). */
export function jetStreamManagerWithin(messaging: Messaging, timeoutMs = REQUEST_PATH_TIMEOUT_MS): Promise<JetStreamManager> {
  // checkAPI: false — no round trip to create it (the connection's own manager already checked JetStream is there).
  return jetstreamManager(messaging.nc, { timeout: timeoutMs, checkAPI: false });
}

/** Drains the connection: pending publishes flush and subscriptions end before it closes. */
export async function closeMessaging(messaging: Messaging | undefined): Promise<void> {
  if (!messaging || messaging.nc.isClosed()) return;
  await messaging.nc.drain().catch(() => messaging.nc.close());
}

/** Attached to a server now, as far as the connection knows (no round trip: see isMessagingReachable for one). */
export const isMessagingUp = (messaging: Messaging | undefined): boolean =>
  !!messaging && !messaging.nc.isClosed() && !messaging.nc.isDraining() && (attached.get(messaging.nc)?.connected ?? true);

/** One PING/PONG with the server within `timeoutMs`: what readiness asks, so a silent server is seen as down too. */
export async function isMessagingReachable(messaging: Messaging | undefined, timeoutMs: number): Promise<boolean> {
  if (!isMessagingUp(messaging)) return false;
  return answersWithin(() => messaging!.nc.flush(), timeoutMs);
}
