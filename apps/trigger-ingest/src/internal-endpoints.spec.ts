import { Controller, Get, Module, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ErrorEnvelopeFilter } from '@trigrun/nest';
import { keepInternalEndpointsInternal } from './internal-endpoints';

@Controller()
class StandInController {
  @Get('metrics')
  metrics() {
    return 'process_resident_memory_bytes 1';
  }

  @Get('readyz')
  readyz() {
    return { status: 'ready' };
  }

  @Post('v1/resume/:token')
  resume(@Param('token') token: string) {
    return { resumed: token };
  }
}

@Module({ controllers: [StandInController] })
class StandInModule {}

/** trigger-ingest's second wall, in process: a request that came through a proxy reaches only the public routes. */
describe('keepInternalEndpointsInternal', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(StandInModule, new FastifyAdapter(), { logger: false });
    app.useGlobalFilters(new ErrorEnvelopeFilter());
    keepInternalEndpointsInternal(app.getHttpAdapter().getInstance());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(() => app.close());

  it('serves internal pages to direct requests (probes, Prometheus)', async () => {
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it.each([
    { 'x-forwarded-for': '203.0.113.5' },
    { forwarded: 'for=203.0.113.5' },
    { 'x-real-ip': '203.0.113.5' },
    { 'x-forwarded-host': 'trigrun.example' },
  ])('answers a forwarded request for an internal page with a 404 envelope (%p)', async (headers) => {
    for (const url of ['/metrics', '/readyz', '/healthz', '/anything']) {
      const res = await app.inject({ method: 'GET', url, headers });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'not_found', message: 'Route not found', details: null } });
    }
  });

  it('lets forwarded requests reach the public routes', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/resume/tok', headers: { 'x-forwarded-for': '203.0.113.5' } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ resumed: 'tok' });
  });
});
