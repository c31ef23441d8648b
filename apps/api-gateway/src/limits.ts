import { type CallHandler, type CanActivate, type ExecutionContext, Injectable, Logger, type NestInterceptor } from '@nestjs/common';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Observable, defer, finalize, from, switchMap } from 'rxjs';
import type { Principal } from '@trigrun/accounts';
import { Job } from '@trigrun/jobs';
import { ApiError, InjectOrm, InjectRedis } from '@trigrun/nest';
import { type Limiter, RateLimits, addressKey, clientAddress, hashedKey } from '@trigrun/rate-limits';
import type { RedisClient } from '@trigrun/redis';
import type { ApiGatewayConfig } from './config';
import { PUBLIC_PREFIXES } from './public-proxy';

type AuthedRequest = FastifyRequest & { principal?: Principal };

const PUBLIC_ROUTES = new Set(PUBLIC_PREFIXES.map((prefix) => `${prefix}/*`));
const isRoute = (req: FastifyRequest, method: string, url: string) => req.method === method && req.routeOptions.url === url;

function emailOf(body: unknown): string | undefined {
  const email = typeof body === 'object' && body !== null ? (body as { email?: unknown }).email : undefined;
  // The same normalisation as AccountsService, so "Ada@x" and " ada@x" share one budget.
  return typeof email === 'string' ? email.trim().toLowerCase() : undefined;
}

/**
 * Which limit applies to which request of the gateway (docs/limits.md). Login and signup count
 * per source address before the body is read, login also per e-mail once it is; every request
 * with a bearer token counts against that token; run-now counts per workspace once the token
 * is known to be good (a forged token must not spend another workspace's budget).
 */
@Injectable()
export class GatewayLimits {
  readonly loginAddress: Limiter;
  readonly loginAccount: Limiter;
  readonly signupAddress: Limiter;
  readonly token: Limiter;
  readonly runNow: Limiter;
  readonly jobsQuota: number | null;

  constructor(
    config: ApiGatewayConfig,
    private readonly limits: RateLimits,
  ) {
    const address = (req: FastifyRequest) => addressKey(clientAddress(req, config.TRIGRUN_TRUSTED_PROXY_HOPS));
    this.loginAddress = limits.limiter('login_per_address', config.TRIGRUN_RATE_LIMIT_LOGIN_ADDRESS, address);
    this.loginAccount = limits.limiter('login_per_account', config.TRIGRUN_RATE_LIMIT_LOGIN_ACCOUNT, (req) => {
      const email = emailOf(req.body);
      return email === undefined ? undefined : hashedKey(email);
    });
    this.signupAddress = limits.limiter('signup_per_address', config.TRIGRUN_RATE_LIMIT_SIGNUP_ADDRESS, address);
    this.token = limits.limiter('token', config.TRIGRUN_RATE_LIMIT_TOKEN, (req) => {
      const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      return match ? hashedKey(match[1]) : undefined;
    });
    this.runNow = limits.limiter('run_now_per_workspace', config.TRIGRUN_RATE_LIMIT_RUN_NOW, (req) => (req as AuthedRequest).principal?.workspaceId);
    this.jobsQuota = config.TRIGRUN_QUOTA_JOBS;
  }

  /** Registers the limits on the server, before Nest adds its routes. */
  async install(fastify: FastifyInstance): Promise<void> {
    await this.limits.install(fastify);
    fastify.addHook('onRequest', async (req, reply) => {
      // The public token endpoints belong to trigger-ingest; third parties call them with
      // headers of their own, which spend nobody's budget here.
      if (req.routeOptions.url !== undefined && PUBLIC_ROUTES.has(req.routeOptions.url)) return;
      if (isRoute(req, 'POST', '/v1/auth/login')) await this.loginAddress.consume(req, reply);
      if (isRoute(req, 'POST', '/v1/auth/signup')) await this.signupAddress.consume(req, reply);
      await this.token.consume(req, reply);
    });
    // Every attempt counts, successful or not: the count is taken before the password is
    // checked, so parallel guesses cannot all pass a check made before any of them failed.
    fastify.addHook('preHandler', async (req, reply) => {
      if (isRoute(req, 'POST', '/v1/auth/login')) await this.loginAccount.consume(req, reply);
    });
  }
}

/** run-now per workspace: a 429 `rate_limited` once the workspace's budget is spent. */
@Injectable()
export class RunNowLimit implements CanActivate {
  constructor(private readonly limits: GatewayLimits) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    await this.limits.runNow.consume(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
    return true;
  }
}

/** A create in flight holds its reservation for at most this long (a crashed replica's expire). */
const RESERVATION_MS = 60_000;

/**
 * The jobs quota: a create beyond it is a 403 `quota_exceeded`. Counting rows alone would let
 * parallel creates all see the last free place, so each create first takes a reservation in
 * Redis (shared by the replicas), then counts the workspace's jobs, and refuses when count +
 * reservations exceed the quota; the reservation is released once the create has answered
 * (its row is then in the count). A create near the quota may be refused while another one is
 * still in flight; it is never let through beyond it.
 */
@Injectable()
export class JobsQuota implements NestInterceptor {
  private readonly logger = new Logger('quotas');

  constructor(
    private readonly limits: GatewayLimits,
    @InjectOrm() private readonly orm: MikroORM,
    @InjectRedis() private readonly redis: RedisClient,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const quota = this.limits.jobsQuota;
    const principal = context.switchToHttp().getRequest<AuthedRequest>().principal;
    if (quota === null || !principal) return next.handle();
    const key = `quota:jobs:${principal.workspaceId}:creating`;
    return defer(() => from(this.reserve(key, principal.workspaceId, quota))).pipe(
      switchMap((reserved) => next.handle().pipe(finalize(() => reserved && this.release(key)))),
    );
  }

  /** Resolves whether a reservation was taken (not when Redis is down: then the count alone decides). */
  private async reserve(key: string, workspaceId: string, quota: number): Promise<boolean> {
    let creating = 1;
    let reserved = false;
    try {
      const replies = await this.redis.multi().incr(key).pexpire(key, RESERVATION_MS).exec();
      creating = Number(replies?.[0]?.[1]);
      reserved = Number.isFinite(creating);
      if (!reserved) creating = 1;
    } catch (error) {
      this.logger.warn(`jobs quota reservation failed, counting rows only: ${(error as Error).message}`);
    }
    try {
      const jobs = await this.orm.em.fork().count(Job, { workspaceId, deletedAt: null });
      if (jobs + creating > quota) {
        throw new ApiError('quota_exceeded', `This workspace has reached its quota of ${quota} jobs; delete jobs to create new ones`, { quota: 'jobs', limit: quota, current: jobs });
      }
      return reserved;
    } catch (error) {
      if (reserved) this.release(key);
      throw error;
    }
  }

  private release(key: string): void {
    this.redis.decr(key).catch(() => undefined);
  }
}
