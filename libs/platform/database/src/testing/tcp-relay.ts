import { type AddressInfo, type Server, type Socket, connect as tcpConnect, createServer } from 'node:net';

/**
 * A TCP relay in front of a dependency (PostgreSQL, NATS, Redis) that a test can cut and restore,
 * so a client sees the dependency go away for real without the machine's own server being
 * touched (other specs use it).
 * - `cut()`: every connection is closed and new ones are refused, as when the server process dies.
 * - `freeze()`: connections stay open but nothing is forwarded any more and new ones hang, as with a
 *   frozen server or a cut network — the case only timeouts notice.
 * - `restore()`: forwards again (a frozen connection stays dead: clients reconnect).
 */
export interface TcpRelay {
  readonly port: number;
  /** `url` with its host and port replaced by the relay's. */
  urlFor(url: string): string;
  cut(): Promise<void>;
  freeze(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpRelay(targetHost: string, targetPort: number): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  let frozen = false;
  const server: Server = createServer((inbound) => {
    sockets.add(inbound);
    inbound.on('error', () => undefined).on('close', () => sockets.delete(inbound));
    if (frozen) return;
    const outbound = tcpConnect(targetPort, targetHost);
    sockets.add(outbound);
    outbound.on('error', () => inbound.destroy()).on('close', () => {
      sockets.delete(outbound);
      if (!frozen) inbound.destroy();
    });
    inbound.on('close', () => {
      if (!frozen) outbound.destroy();
    });
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stopListening = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  return {
    port,
    urlFor(url: string) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    async cut() {
      const closed = stopListening();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    freeze() {
      frozen = true;
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    async restore() {
      if (frozen) {
        frozen = false;
        for (const socket of sockets) socket.destroy();
      }
      if (!server.listening) await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      const closed = stopListening();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
