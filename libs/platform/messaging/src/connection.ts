import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { skipReplyDispatchStacks } from './reply-dispatch';
import { coalesceWrites } from './write-coalescing';

export interface Messaging {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

export async function connectMessaging(url: string, name: string): Promise<Messaging> {
  // noAsyncTraces: by default nats.js builds a RequestError and a TimeoutError (each capturing a
  // stack trace) up front for every request — every JetStream publish — just in case it fails;
  // under load that was several % of a service's CPU. Failures keep their messages, codes and
  // causes; our callers wrap them after an `await`, where async stack traces show the call site.
  const nc = await connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 500, noAsyncTraces: true });
  coalesceWrites(nc);
  skipReplyDispatchStacks(nc);
  const js = jetstream(nc, { timeout: 10_000 });
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  return { nc, js, jsm };
}

/** Drains the connection: pending publishes flush and subscriptions end before it closes. */
export async function closeMessaging(messaging: Messaging | undefined): Promise<void> {
  if (!messaging || messaging.nc.isClosed()) return;
  await messaging.nc.drain().catch(() => messaging.nc.close());
}

export const isMessagingUp = (messaging: Messaging | undefined): boolean => !!messaging && !messaging.nc.isClosed() && !messaging.nc.isDraining();
