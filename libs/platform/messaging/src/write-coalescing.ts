import type { NatsConnection } from '@nats-io/transport-node';

/**
 * The part of nats.js v3's protocol handler this relies on (`@nats-io/nats-core` 3.x,
 * `lib/protocol.js`): an outbound buffer, its size limit, and `flushPending()`, which writes the
 * whole buffer to the socket in one `write`.
 */
interface ProtocolInternals {
  outbound: { fill(buf: Uint8Array, ...payloads: Uint8Array[]): void; size(): number };
  pendingLimit: number;
  flushPending(): void;
  sendCommand(cmd: string | Uint8Array, ...payloads: Uint8Array[]): void;
}

const encoder = new TextEncoder();

/**
 * nats.js schedules the flush of its outbound buffer as a microtask, so with many handlers in
 * flight nearly every publish and ack becomes its own socket write — and on the machines this
 * platform is measured on, the write system call was the largest CPU item of the step-runner and
 * the api-gateway. This defers the flush to the end of the event-loop turn (`setImmediate`), so
 * everything written in one turn leaves in one `write`; a buffer past nats.js' own limit still
 * flushes at once. It changes when bytes leave, never what or in which order.
 *
 * Returns false (and changes nothing) when the client's internals are not the expected shape —
 * a nats.js upgrade then costs performance, not correctness; the messaging integration spec
 * fails loudly so the upgrade is noticed.
 */
export function coalesceWrites(nc: NatsConnection): boolean {
  const protocol = (nc as unknown as { protocol?: Partial<ProtocolInternals> }).protocol;
  if (
    !protocol ||
    typeof protocol.sendCommand !== 'function' ||
    typeof protocol.flushPending !== 'function' ||
    typeof protocol.outbound?.fill !== 'function' ||
    typeof protocol.pendingLimit !== 'number'
  ) {
    return false;
  }
  const p = protocol as ProtocolInternals;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    p.flushPending();
  };
  p.sendCommand = (cmd, ...payloads) => {
    p.outbound.fill(typeof cmd === 'string' ? encoder.encode(cmd) : cmd, ...payloads);
    if (p.outbound.size() >= p.pendingLimit) p.flushPending();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return true;
}
