import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { toApiError } from '@trigrun/nest';
import { DomainError } from '@trigrun/util';
import type { AccountsService, Principal } from './accounts.service';
import { AuthGuard } from './auth.guard';

const OWNER: Principal = { userId: 'usr_1', workspaceId: 'ws_1', role: 'owner', via: 'jwt' };
const MEMBER: Principal = { ...OWNER, role: 'member' };

/** The guard's collaborators as data: which bearer strings authenticate as whom. */
function guard(known: Record<string, Principal>) {
  const seen: string[] = [];
  const accounts = {
    authenticate: async (bearer: string) => {
      seen.push(bearer);
      return known[bearer] ?? null;
    },
  } as unknown as AccountsService;
  return { guard: new AuthGuard(accounts, new Reflector()), seen };
}

function context(method: string, url: string, rawHeaders: string[]): ExecutionContext {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i].toLowerCase()] ??= rawHeaders[i + 1];
  const request = { method, url, headers, raw: { rawHeaders } };
  return {
    getHandler: () => () => undefined,
    getClass: () => class {},
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

const refusal = async (work: Promise<unknown>) => {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  // The status a client sees: the guard's refusal as the error filter answers it.
  return toApiError(error).status;
};

describe('AuthGuard', () => {
  it('lets a known bearer in and records the principal', async () => {
    const { guard: g } = guard({ good: OWNER });
    await expect(g.canActivate(context('POST', '/v1/jobs', ['Authorization', 'Bearer good']))).resolves.toBe(true);
  });

  it.each([
    ['no header', []],
    ['another scheme', ['Authorization', 'Basic good']],
    ['an unknown bearer', ['Authorization', 'Bearer bad']],
    ['two Authorization headers, the first good', ['Authorization', 'Bearer good', 'authorization', 'Bearer bad']],
    ['two Authorization headers, both good', ['authorization', 'Bearer good', 'AUTHORIZATION', 'Bearer good']],
  ])('answers 401 for %s', async (_name, rawHeaders) => {
    const { guard: g } = guard({ good: OWNER });
    expect(await refusal(g.canActivate(context('GET', '/v1/jobs', rawHeaders)))).toBe(401);
  });

  it('refuses a member’s writes with 403 and lets their reads and workspace switches through', async () => {
    const { guard: g } = guard({ member: MEMBER });
    const auth = ['Authorization', 'Bearer member'];
    expect(await refusal(g.canActivate(context('POST', '/v1/jobs', auth)))).toBe(403);
    expect(await refusal(g.canActivate(context('DELETE', '/v1/workspace/members/usr_2', auth)))).toBe(403);
    await expect(g.canActivate(context('GET', '/v1/jobs', auth))).resolves.toBe(true);
    await expect(g.canActivate(context('POST', '/v1/auth/switch-workspace', auth))).resolves.toBe(true);
  });
});
