import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Infrastructure } from './infrastructure';
import { Public } from './public.decorator';

@ApiExcludeController()
@Public()
@Controller()
export class HealthController {
  constructor(private readonly infra: Infrastructure) {}

  /** Alive: the process answers. Never checks dependencies, so a broker outage does not restart every pod. */
  @Get('healthz')
  @HttpCode(200)
  healthz() {
    return { status: 'ok' };
  }

  /** Ready: NATS, Postgres and Redis are connected and the service is not shutting down. */
  @Get('readyz')
  async readyz(@Res() reply: FastifyReply) {
    const { ready, checks } = await this.infra.readiness();
    void reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  }
}
