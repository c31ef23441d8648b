import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ResolvedAddress } from './destination-policy';
import { GuardedHttpClient } from './guarded-http-client';
import type { OutboundResult } from './outbound-request';

// Every server here listens on 127.0.0.1 and every name resolves (through the `lookup` option) to
// 127.0.0.x, so nothing leaves the machine. Names use the reserved `.test` TLD.

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

interface TestServer {
  readonly port: number;
  readonly requests: Recorded[];
  /** TCP connections accepted: proves a refused destination was never even connected to. */
  readonly connections: () => number;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, server: TestServer) => void;

const servers: Array<http.Server | https.Server> = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(async (server) => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    }),
  );
});

async function startServer(handler: Handler, server: http.Server | https.Server = http.createServer()): Promise<TestServer> {
  let connections = 0;
  const requests: Recorded[] = [];
  servers.push(server);
  server.on(server instanceof https.Server ? 'secureConnection' : 'connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const test: TestServer = { port: (server.address() as AddressInfo).port, requests, connections: () => connections };
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      handler(req, res, test);
    });
  });
  return test;
}

const ok: Handler = (_req, res) => res.end('hello');

/** A resolver for made-up names, counting how often each name is asked for. */
function fakeDns(answers: Record<string, string[] | (() => string[])>) {
  const calls: string[] = [];
  const lookup = async (host: string): Promise<ResolvedAddress[]> => {
    calls.push(host);
    const entry = answers[host];
    if (entry === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return (typeof entry === 'function' ? entry() : entry).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { lookup, calls };
}

function expectKind<K extends OutboundResult['kind']>(result: OutboundResult, kind: K): Extract<OutboundResult, { kind: K }> {
  expect(result).toMatchObject({ kind });
  return result as Extract<OutboundResult, { kind: K }>;
}

describe('GuardedHttpClient: address policy', () => {
  it('refuses loopback without an allow-list, before connecting', async () => {
    const server = await startServer(ok);
    const result = await new GuardedHttpClient().send({ url: `http://127.0.0.1:${server.port}/`, method: 'GET', timeoutMs: 2000 });
    expect(expectKind(result, 'blocked').address).toBe('127.0.0.1');
    expect(server.connections()).toBe(0);
  });

  it.each(['[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '0x7f.0.0.1', '2130706433', '[0:0:0:0:0:0:0:1]'])(
    'refuses the literal host %s',
    async (host) => {
      const server = await startServer(ok);
      const result = await new GuardedHttpClient().send({ url: `http://${host}:${server.port}/`, method: 'GET', timeoutMs: 2000 });
      expectKind(result, 'blocked');
      expect(server.connections()).toBe(0);
    },
  );

  it('refuses a name that resolves to loopback', async () => {
    const server = await startServer(ok);
    const dns = fakeDns({ 'public.test': ['127.0.0.1'] });
    const client = new GuardedHttpClient({ lookup: dns.lookup });
    const result = await client.send({ url: `http://public.test:${server.port}/`, method: 'GET', timeoutMs: 2000 });
    expect(expectKind(result, 'blocked')).toMatchObject({ address: '127.0.0.1' });
    expect(expectKind(result, 'blocked').message).toContain('public.test');
    expect(server.connections()).toBe(0);
  });

  it('admits 127.0.0.1 when the allow-list has 127.0.0.1/32, and reports the response faithfully', async () => {
    const server = await startServer((_req, res) => {
      res.setHeader('X-Multi', ['a', 'b']);
      res.setHeader('Content-Type', 'text/plain');
      res.statusCode = 201;
      res.end('created');
    });
    const client = new GuardedHttpClient({ allowlist: '127.0.0.1/32', userAgent: 'trigrun-test' });
    const url = `http://127.0.0.1:${server.port}/things?x=1#ignored`;
    const headers = { 'X-Req': 'r', Host: 'evil.test' };
    const result = expectKind(await client.send({ url, method: 'POST', headers, body: 'payload', timeoutMs: 2000 }), 'response');
    expect(result).toMatchObject({ status: 201, truncated: false, redirects: 0, finalUrl: url });
    expect(result.body.toString()).toBe('created');
    expect(result.headers).toMatchObject({ 'x-multi': 'a, b', 'content-type': 'text/plain' });
    expect(server.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/things?x=1',
        body: 'payload',
        headers: expect.objectContaining({
          host: `127.0.0.1:${server.port}`,
          'x-req': 'r',
          'user-agent': 'trigrun-test',
          'content-length': '7',
        }),
      }),
    ]);
  });

  it('admits localhost when the allow-list names it (system resolver), but not 127.0.0.1 itself', async () => {
    const server = await startServer(ok);
    const client = new GuardedHttpClient({ allowlist: 'localhost' });
    const byName = expectKind(await client.send({ url: `http://localhost:${server.port}/`, method: 'GET', timeoutMs: 2000 }), 'response');
    expect(byName.body.toString()).toBe('hello');
    expect(server.requests[0].headers.host).toBe(`localhost:${server.port}`);
    expectKind(await client.send({ url: `http://127.0.0.1:${server.port}/`, method: 'GET', timeoutMs: 2000 }), 'blocked');
  });

  it('refuses a name when any of its addresses is refused, without connecting to the good one', async () => {
    const server = await startServer(ok);
    const dns = fakeDns({ 'mixed.test': ['127.0.0.1', '127.0.0.2'] });
    const client = new GuardedHttpClient({ allowlist: '127.0.0.1/32', lookup: dns.lookup });
    const result = await client.send({ url: `http://mixed.test:${server.port}/`, method: 'GET', timeoutMs: 2000 });
    expect(expectKind(result, 'blocked').address).toBe('127.0.0.2');
    expect(server.connections()).toBe(0);
  });

  it('connects to the address it checked, not to a later DNS answer', async () => {
    const server = await startServer(ok);
    let answers = 0;
    // First answer passes the check; any later one would not (and 127.0.0.2 has no listener).
    const dns = fakeDns({ 'rebind.test': () => (answers++ === 0 ? ['127.0.0.1'] : ['127.0.0.2']) });
    const client = new GuardedHttpClient({ allowlist: '127.0.0.1/32', lookup: dns.lookup });
    const result = expectKind(await client.send({ url: `http://rebind.test:${server.port}/`, method: 'GET', timeoutMs: 2000 }), 'response');
    expect(result.status).toBe(200);
    expect(dns.calls).toEqual(['rebind.test']);
    expect(server.requests[0].headers.host).toBe(`rebind.test:${server.port}`);
  });

  it('sends the original host name as TLS SNI while connecting to the pinned address', async () => {
    const seenServerNames: string[] = [];
    const tlsServer = https.createServer({
      key: TEST_KEY,
      cert: TEST_CERT,
      SNICallback: (servername, done) => {
        seenServerNames.push(servername);
        done(null);
      },
    });
    const server = await startServer(ok, tlsServer);
    const dns = fakeDns({ 'public.test': ['127.0.0.1'] });
    const client = new GuardedHttpClient({ allowlist: 'public.test', lookup: dns.lookup });
    const result = await client.send({ url: `https://public.test:${server.port}/`, method: 'GET', timeoutMs: 2000 });
    // The certificate is self-signed, so verification must fail: the client trusts no test CA.
    expect(expectKind(result, 'connection_error').code).toMatch(/CERT|SELF_SIGNED/);
    expect(seenServerNames).toEqual(['public.test']);
    expect(server.requests).toEqual([]);
  });
});

describe('GuardedHttpClient: redirects', () => {
  it('re-checks every hop: an allowed host redirecting to a refused one is blocked at that hop', async () => {
    const target = await startServer(ok);
    const entry = await startServer((_req, res) => {
      res.writeHead(302, { Location: `http://internal.test:${target.port}/secret` }).end();
    });
    const dns = fakeDns({ 'public.test': ['127.0.0.1'], 'internal.test': ['127.0.0.1'] });
    const client = new GuardedHttpClient({ allowlist: 'public.test', lookup: dns.lookup });
    const result = await client.send({ url: `http://public.test:${entry.port}/start`, method: 'GET', timeoutMs: 2000 });
    const blocked = expectKind(result, 'blocked');
    expect(blocked.address).toBe('127.0.0.1');
    expect(blocked.message).toContain('internal.test');
    expect(entry.requests).toHaveLength(1);
    expect(target.connections()).toBe(0);
    expect(dns.calls).toEqual(['public.test', 'internal.test']);
  });

  it('blocks a redirect to a literal loopback address', async () => {
    const target = await startServer(ok);
    const entry = await startServer((_req, res) => res.writeHead(301, { Location: `http://127.0.0.1:${target.port}/` }).end());
    const dns = fakeDns({ 'public.test': ['127.0.0.1'] });
    const client = new GuardedHttpClient({ allowlist: 'public.test', lookup: dns.lookup });
    expectKind(await client.send({ url: `http://public.test:${entry.port}/`, method: 'GET', timeoutMs: 2000 }), 'blocked');
    expect(target.connections()).toBe(0);
  });

  it('follows a redirect to another allowed host and reports where it ended', async () => {
    const target = await startServer(ok);
    const entry = await startServer((_req, res) => {
      res.writeHead(302, { Location: `http://public.test:${target.port}/final` }).end('ignored');
    });
    const dns = fakeDns({ 'public.test': ['127.0.0.1'] });
    const client = new GuardedHttpClient({ allowlist: 'public.test', lookup: dns.lookup });
    const result = expectKind(await client.send({ url: `http://public.test:${entry.port}/`, method: 'GET', timeoutMs: 2000 }), 'response');
    expect(result).toMatchObject({ status: 200, redirects: 1, finalUrl: `http://public.test:${target.port}/final` });
    expect(result.body.toString()).toBe('hello');
    expect(dns.calls).toEqual(['public.test', 'public.test']);
  });

  it('turns POST into a body-less GET on 303', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/form') res.writeHead(303, { Location: '/result' }).end();
      else res.end(`got ${req.method}`);
    });
    const client = new GuardedHttpClient({ allowlist: '127.0.0.1' });
    const result = expectKind(
      await client.send({
        url: `http://127.0.0.1:${server.port}/form`,
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"a":1}',
        timeoutMs: 2000,
      }),
      'response',
    );
    expect(result.body.toString()).toBe('got GET');
    expect(server.requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ['POST', '/form', '{"a":1}'],
      ['GET', '/result', ''],
    ]);
    expect(server.requests[1].headers['content-type']).toBeUndefined();
    expect(server.requests[1].headers['content-length']).toBeUndefined();
  });

  it('keeps method, body and headers on 307', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/old') res.writeHead(307, { Location: '/new' }).end();
      else res.end();
    });
    const client = new GuardedHttpClient({ allowlist: '127.0.0.1' });
    const body = Buffer.from([0, 1, 2, 3]);
    expectKind(
      await client.send({
        url: `http://127.0.0.1:${server.port}/old`,
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body,
        timeoutMs: 2000,
      }),
      'response',
    );
    expect(server.requests.map((r) => [r.method, r.url, Buffer.from(r.body, 'latin1'), r.headers['content-type']])).toEqual([
      ['PUT', '/old', body, 'application/octet-stream'],
      ['PUT', '/new', body, 'application/octet-stream'],
    ]);
  });

  it('gives up with connection_error after maxRedirects', async () => {
    const server = await startServer((_req, res) => res.writeHead(302, { Location: '/again' }).end());
    const client = new GuardedHttpClient({ allowlist: '127.0.0.1/32' });
    const result = await client.send({ url: `http://127.0.0.1:${server.port}/`, method: 'GET', maxRedirects: 3, timeoutMs: 2000 });
    expect(expectKind(result, 'connection_error').code).toBe('TOO_MANY_REDIRECTS');
    expect(server.requests).toHaveLength(4);
  });

  it('follows at most 5 redirects by default', async () => {
    const server = await startServer((req, res) => {
      const n = Number(req.url?.slice(1) || '0');
      if (n < 5) res.writeHead(302, { Location: `/${n + 1}` }).end();
      else res.end('done');
    });
    const client = new GuardedHttpClient({ allowlist: '127.0.0.1/32' });
    const result = expectKind(await client.send({ url: `http://127.0.0.1:${server.port}/`, method: 'GET', timeoutMs: 2000 }), 'response');
    expect(result).toMatchObject({ redirects: 5, finalUrl: `http://127.0.0.1:${server.port}/5` });
  });

  it('returns a 3xx without Location as a response', async () => {
    const server = await startServer((_req, res) => res.writeHead(302).end('nowhere'));
    const client = new GuardedHttpClient({ allowlist: '127.0.0.1/32' });
    const result = expectKind(await client.send({ url: `http://127.0.0.1:${server.port}/`, method: 'GET', timeoutMs: 2000 }), 'response');
    expect(result).toMatchObject({ status: 302, redirects: 0 });
  });

  it('refuses a redirect to a non-http scheme', async () => {
    const server = await startServer((_req, res) => res.writeHead(302, { Location: 'file:///etc/passwd' }).end());
    const client = new GuardedHttpClient({ allowlist: '127.0.0.1/32' });
    const result = await client.send({ url: `http://127.0.0.1:${server.port}/`, method: 'GET', timeoutMs: 2000 });
    expect(expectKind(result, 'connection_error').code).toBe('INVALID_REDIRECT');
  });
});

describe('GuardedHttpClient: failures and limits', () => {
  const client = new GuardedHttpClient({ allowlist: '127.0.0.1/32' });

  it('times out when no response arrives, close to the deadline', async () => {
    const server = await startServer(() => undefined);
    const started = Date.now();
    const result = await client.send({ url: `http://127.0.0.1:${server.port}/`, method: 'GET', timeoutMs: 300 });
    const wall = Date.now() - started;
    expect(expectKind(result, 'timeout').latencyMs).toBeGreaterThanOrEqual(290);
    expect(wall).toBeLessThan(300 + 400);
  });

  it('counts the body read against the deadline', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('partial');
    });
    const started = Date.now();
    const result = await client.send({ url: `http://127.0.0.1:${server.port}/`, method: 'GET', timeoutMs: 300 });
    expectKind(result, 'timeout');
    expect(Date.now() - started).toBeLessThan(300 + 400);
  });

  it('counts DNS resolution against the deadline', async () => {
    const never = new GuardedHttpClient({ lookup: () => new Promise<ResolvedAddress[]>(() => undefined) });
    const started = Date.now();
    expectKind(await never.send({ url: 'http://slow-dns.test/', method: 'GET', timeoutMs: 200 }), 'timeout');
    expect(Date.now() - started).toBeLessThan(200 + 400);
  });

  it('reports a refused connection as connection_error', async () => {
    const closed = await startServer(ok);
    servers.pop()?.close();
    const result = await client.send({ url: `http://127.0.0.1:${closed.port}/`, method: 'GET', timeoutMs: 2000 });
    expect(expectKind(result, 'connection_error').code).toBe('ECONNREFUSED');
  });

  it('reports a failed DNS lookup as connection_error', async () => {
    const unresolvable = new GuardedHttpClient({ lookup: fakeDns({}).lookup });
    const result = await unresolvable.send({ url: 'http://nowhere.test/', method: 'GET', timeoutMs: 2000 });
    expect(expectKind(result, 'connection_error').code).toBe('ENOTFOUND');
  });

  it('reports a connection reset mid-body as connection_error', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('partial', () => res.socket?.destroy());
    });
    const result = await client.send({ url: `http://127.0.0.1:${server.port}/`, method: 'GET', timeoutMs: 2000 });
    expectKind(result, 'connection_error');
  });

  it('keeps only maxResponseBytes of a larger body and still succeeds', async () => {
    const payload = Buffer.alloc(10_000, 'abcdefghij');
    const server = await startServer((_req, res) => res.end(payload));
    const result = expectKind(
      await client.send({ url: `http://127.0.0.1:${server.port}/`, method: 'GET', maxResponseBytes: 1000, timeoutMs: 2000 }),
      'response',
    );
    expect(result.truncated).toBe(true);
    expect(result.body).toEqual(payload.subarray(0, 1000));
  });

  it('does not mark a body of exactly maxResponseBytes as truncated', async () => {
    const server = await startServer((_req, res) => res.end(Buffer.alloc(1000, 'x')));
    const result = expectKind(
      await client.send({ url: `http://127.0.0.1:${server.port}/`, method: 'GET', maxResponseBytes: 1000, timeoutMs: 2000 }),
      'response',
    );
    expect(result).toMatchObject({ truncated: false });
    expect(result.body).toHaveLength(1000);
  });

  it('stops reading an endless body once the limit is reached instead of running into the deadline', async () => {
    const server = await startServer((_req, res) => {
      const chunk = Buffer.alloc(16_384, 'z');
      const pump = (): void => {
        while (res.write(chunk)) {
          /* fill the socket buffer */
        }
        res.once('drain', pump);
      };
      pump();
    });
    const started = Date.now();
    const result = expectKind(
      await client.send({ url: `http://127.0.0.1:${server.port}/`, method: 'GET', maxResponseBytes: 64 * 1024, timeoutMs: 5000 }),
      'response',
    );
    expect(result).toMatchObject({ status: 200, truncated: true });
    expect(result.body).toHaveLength(64 * 1024);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stops when the caller aborts', async () => {
    const server = await startServer(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const { signal } = controller;
    const result = await client.send({ url: `http://127.0.0.1:${server.port}/`, method: 'GET', timeoutMs: 5000, signal });
    expect(expectKind(result, 'connection_error').code).toBe('ABORTED');
    expect(result.latencyMs).toBeLessThan(1000);
  });

  it.each(['ftp://127.0.0.1/', 'not a url', 'file:///etc/passwd'])('answers invalid_url for %j without any I/O', async (url) => {
    const dns = fakeDns({});
    const result = await new GuardedHttpClient({ lookup: dns.lookup }).send({ url, method: 'GET', timeoutMs: 2000 });
    expect(result).toMatchObject({ kind: 'invalid_url', latencyMs: 0 });
    expect(dns.calls).toEqual([]);
  });
});

// Self-signed certificate for `public.test` (valid until 2126), used only to observe SNI and a TLS failure.
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1fhHshpN0IsLRShZ
hF4eBTm7vFDD0qllmOxixPfTDEWhRANCAAQaAysRY19ZmFvIgD/T11AWQltLB0fF
zDN1Jp2nsnIsM6jjyysjeEji7l0kbrjf7p1C3VHT2Yc8C2XIsG1RtRdw
-----END PRIVATE KEY-----`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUH91NOac5azY/YhosgUjwsIzXQIowCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLcHVibGljLnRlc3QwIBcNMjYxMTI3MjEyOTU0WhgPMjEyNjEx
MDMyMTI5NTRaMBYxFDASBgNVBAMMC3B1YmxpYy50ZXN0MFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEGgMrEWNfWZhbyIA/09dQFkJbSwdHxcwzdSadp7JyLDOo48sr
I3hI4u5dJG643+6dQt1R09mHPAtlyLBtUbUXcKNrMGkwHQYDVR0OBBYEFLbGPR5p
lcCsvbrdLG1wpGG7YKPMMB8GA1UdIwQYMBaAFLbGPR5plcCsvbrdLG1wpGG7YKPM
MA8GA1UdEwEB/wQFMAMBAf8wFgYDVR0RBA8wDYILcHVibGljLnRlc3QwCgYIKoZI
zj0EAwIDSAAwRQIhAPZng+4jvqk7Uot3053Rd8B0pXQKOs6jUYX5BFBkZVoEAiAW
lssPbbCGsGoOIT9uSzIIB9uDZ7AITxV2lBu0dQgv8Q==
-----END CERTIFICATE-----`;
