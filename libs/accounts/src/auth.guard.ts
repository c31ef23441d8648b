import { type CanActivate, type ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { IS_PUBLIC } from '@trigrun/nest';
import { DomainError } from '@trigrun/util';
import { AccountsService, type Principal } from './accounts.service';

type AuthedRequest = FastifyRequest & { principal?: Principal };

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every route is private unless marked @Public(). Members are read-only: any write is a 403
 * here, before a handler runs, so no write path can forget the check.
 *
 * The guard reads HTTP (headers, method, URL), but its refusals are plain `unauthorized` and
 * `forbidden` DomainErrors: they carry nothing only HTTP has (no WWW-Authenticate, no header of
 * their own), so the error filter answers them exactly as it would an ApiError, and the same
 * codes stay meaningful to whatever else authenticates through AccountsService.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly accounts: AccountsService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    // Node keeps the first of two Authorization headers, a proxy in front may keep the last: with
    // two, the two could authenticate different principals, so neither is taken.
    if (countHeader(request.raw.rawHeaders, 'authorization') > 1) throw DomainError.unauthorized('Send one Authorization header');
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw DomainError.unauthorized('Send Authorization: Bearer <token>');
    const principal = await this.accounts.authenticate(match[1]);
    if (!principal) throw DomainError.unauthorized('The token is invalid, expired or revoked, or its user is no longer a member of the workspace');
    // Switching workspaces is a read of one's own memberships, allowed to every role.
    if (principal.role === 'member' && !READ_METHODS.has(request.method) && !request.url.startsWith('/v1/auth/switch-workspace')) {
      throw DomainError.forbidden('Members have read-only access');
    }
    request.principal = principal;
    return true;
  }
}

function countHeader(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === name) count += 1;
  return count;
}

export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!principal) throw DomainError.unauthorized();
  return principal;
});

export function requireRole(principal: Principal, ...roles: Principal['role'][]): void {
  if (!roles.includes(principal.role)) throw DomainError.forbidden(`This needs one of the roles: ${roles.join(', ')}`);
}
