import type { NatsConnection } from '@nats-io/transport-node';

type Dispatch = (err: Error | null, msg: unknown) => void;

/**
 * The part of nats.js v3's protocol handler this relies on (`@nats-io/nats-core` 3.x,
 * `lib/protocol.js` and `lib/muxsubscription.js`): `initMux()` installs
 * `muxSubscriptions.dispatcher()` as the callback of the one subscription that receives the replies
 * to every `request()` — and so every JetStream publish ack.
 */
interface ProtocolInternals {
  muxSubscriptions: { dispatcher(): Dispatch };
  subscriptions: { getMux(): { callback?: Dispatch } | null };
}

/**
 * Runs nats.js' reply dispatch with `Error.stackTraceLimit = 0`.
 *
 * Each reply settles its request with `RequestOne.resolver()`, which ends in `cancel()`, which
 * builds `new RequestError("cancelled")` to reject the (already resolved) promise — a discarded
 * error, and a captured stack trace, for every successful request. (`noAsyncTraces` on the
 * connection removes the other two per request; this one is unconditional.) Any error born here
 * would only get a stack of nats.js internals (socket → parser → dispatcher), never the caller's,
 * so little is lost: messages, names, codes and causes are kept (a failed request's error then has
 * just its message line as stack), and where we wrap such errors after an `await` (JetStream's own
 * errors, `append`'s), V8's async stack traces still show the caller.
 *
 * Only nats.js code runs inside the dispatch: it settles promises, whose reactions run later as
 * microtasks, after the limit is restored.
 *
 * Returns false (and changes nothing) when the client's internals are not the expected shape — a
 * nats.js upgrade then costs CPU, not correctness; the messaging integration spec fails loudly.
 * Call before the connection's first request; a reply subscription that already exists is covered too.
 */
export function skipReplyDispatchStacks(nc: NatsConnection): boolean {
  const protocol = (nc as unknown as { protocol?: Partial<ProtocolInternals> }).protocol;
  const mux = protocol?.muxSubscriptions;
  if (!protocol || typeof mux?.dispatcher !== 'function' || typeof protocol.subscriptions?.getMux !== 'function') {
    return false;
  }
  const dispatcher = mux.dispatcher.bind(mux);
  mux.dispatcher = () => withoutStacks(dispatcher());
  const existing = protocol.subscriptions.getMux();
  if (existing && typeof existing.callback === 'function') existing.callback = withoutStacks(existing.callback);
  return true;
}

function withoutStacks(dispatch: Dispatch): Dispatch {
  return (err, msg) => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      dispatch(err, msg);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
}
