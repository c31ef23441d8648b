import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ErrorEnvelopeFilter } from '@trigrun/nest';
import { registerPublicProxy } from './public-proxy';

/**
 * Local mode: the gateway forwards the public token endpoints to trigger-ingest. Form posts and
 * the review pages' HTML, status and security headers must pass through unchanged. The upstream
 * here is a stand-in on a loopback port that records what it got and answers like
 * trigger-ingest's review pages do; the gateway is set up as main.ts sets it up.
 */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

@Module({})
class EmptyModule {}

describe('public proxy', () => {
  let upstream: Server;
  let gateway: NestFastifyApplication;
  const received: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: Buffer }> = [];
  let answer: { status: number; headers: Record<string, string>; body: string } = { status: 200, headers: {}, body: '' };

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(answer.status, answer.headers).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

    gateway = await NestFactory.create<NestFastifyApplication>(EmptyModule, new FastifyAdapter({ bodyLimit: 1024 * 1024 }), { logger: false });
    gateway.useGlobalFilters(new ErrorEnvelopeFilter());
    await registerPublicProxy(gateway.getHttpAdapter().getInstance(), target);
    await gateway.init();
    await gateway.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await gateway.close();
    await new Promise((resolve) => upstream.close(resolve));
  });

  beforeEach(() => {
    received.length = 0;
  });

  it('forwards a review form post byte for byte and returns the HTML page with its headers', async () => {
    const html = '<!DOCTYPE html>\n<html lang="en"><body><h1>Approved</h1> — ✓</body></html>\n';
    answer = { status: 200, headers: { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' }, body: html };
    const form = 'comment=looks+good%0Aship+it&decided_by=Zo%C3%AB';
    const res = await gateway.inject({
      method: 'POST',
      url: '/v1/approvals/exec_01JQ.tok/approve',
      payload: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html,*/*;q=0.8' },
    });

    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/v1/approvals/exec_01JQ.tok/approve' });
    expect(received[0].body.toString('utf8')).toBe(form);
    expect(received[0].headers).toMatchObject({ 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html,*/*;q=0.8' });

    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' });
    expect(res.body).toBe(html);
  });

  it('keeps the status and headers of an error page', async () => {
    answer = { status: 409, headers: { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' }, body: '<h1>Already decided</h1>' };
    const res = await gateway.inject({ method: 'POST', url: '/v1/approvals/t/reject', payload: 'comment=', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.statusCode).toBe(409);
    expect(res.headers).toMatchObject(PAGE_HEADERS);
    expect(res.body).toBe('<h1>Already decided</h1>');
  });

  it('forwards a GET with its Accept header and the query string', async () => {
    answer = { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: '{"state":"pending"}' };
    const res = await gateway.inject({ method: 'GET', url: '/v1/approvals/t?x=1', headers: { accept: 'application/json' } });
    expect(received[0]).toMatchObject({ method: 'GET', url: '/v1/approvals/t?x=1', headers: expect.objectContaining({ accept: 'application/json' }) });
    expect(res.json()).toEqual({ state: 'pending' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it.each`
    contentType                   | payload
    ${'application/json'}         | ${'{"ok":true,"n":[1,2]}'}
    ${'text/plain'}               | ${'just text'}
    ${'application/octet-stream'} | ${Buffer.from([0, 1, 2, 255])}
  `('forwards a $contentType resume body unchanged', async ({ contentType, payload }) => {
    answer = { status: 200, headers: { 'content-type': 'application/json' }, body: '{"resumed":true}' };
    const res = await gateway.inject({ method: 'POST', url: '/v1/resume/t', payload, headers: { 'content-type': contentType } });
    expect(res.statusCode).toBe(200);
    expect(received[0].body.equals(Buffer.isBuffer(payload) ? payload : Buffer.from(payload))).toBe(true);
    expect(received[0].headers['content-type']).toBe(contentType);
  });

  it('answers a body over 1 MiB with the 413 envelope without forwarding it', async () => {
    const res = await gateway.inject({ method: 'POST', url: '/v1/resume/t', payload: 'x'.repeat(1024 * 1024 + 1), headers: { 'content-type': 'text/plain' } });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: { code: 'payload_too_large', message: expect.any(String), details: null } });
    expect(received).toHaveLength(0);
  });

  it('answers 502 in the envelope when trigger-ingest is down', async () => {
    const down = await NestFactory.create<NestFastifyApplication>(EmptyModule, new FastifyAdapter(), { logger: false });
    await registerPublicProxy(down.getHttpAdapter().getInstance(), 'http://127.0.0.1:1');
    await down.init();
    try {
      const res = await down.inject({ method: 'POST', url: '/v1/resume/t', payload: '{}', headers: { 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(502);
      expect(res.json().error.code).toBe('internal');
    } finally {
      await down.close();
    }
  });
});
