import { Inject, Injectable } from '@nestjs/common';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ApiError, InjectOrm, InjectRedis } from '@trigrun/nest';
import type { RedisClient } from '@trigrun/redis';
import { newId } from '@trigrun/util';
import { API_TOKEN_PREFIX, hashPassword, hashToken, newApiToken, signJwt, verifyJwt, verifyPassword } from './crypto';
import { ApiToken, Membership, type Role, User, Workspace } from './entities';

export interface Principal {
  readonly userId: string;
  readonly workspaceId: string;
  readonly role: Role;
  readonly via: 'jwt' | 'api_token';
}

export interface AccountsConfig {
  readonly jwtSecret: string;
  readonly signupEnabled: boolean;
}
export const ACCOUNTS_CONFIG = Symbol('ACCOUNTS_CONFIG');

const JWT_TTL_SECONDS = 7 * 24 * 3600;
/** API-token lookups are cached briefly in Redis; revocation deletes the entry, so it takes effect at once. */
const TOKEN_CACHE_SECONDS = 60;

export const workspaceView = (w: Workspace) => ({ id: w.id, name: w.name });
export const userView = (u: User) => ({ id: u.id, name: u.name, email: u.email, trust_level: 'verified' as const });
export const apiTokenView = (t: ApiToken) => ({
  id: t.id,
  name: t.name,
  role: t.role,
  token_prefix: t.tokenPrefix,
  created_at: t.createdAt.toISOString(),
  last_used_at: t.lastUsedAt?.toISOString() ?? null,
});

@Injectable()
export class AccountsService {
  constructor(
    @InjectOrm() private readonly orm: MikroORM,
    @InjectRedis() private readonly redis: RedisClient,
    @Inject(ACCOUNTS_CONFIG) private readonly config: AccountsConfig,
  ) {}

  async signup(input: { name: string; email: string; password: string; workspaceName: string; timezone: string }) {
    if (!this.config.signupEnabled) throw ApiError.forbidden('Signup is closed on this installation');
    const em = this.orm.em.fork();
    const email = input.email.trim().toLowerCase();
    if (await em.findOne(User, { email })) {
      throw ApiError.conflict('An account with this email already exists', { field: 'email' });
    }
    const now = new Date();
    const passwordHash = await hashPassword(input.password);
    let user!: User;
    let workspace!: Workspace;
    try {
      // Entities hold plain ids (no ORM relations), so the insert order is spelled out.
      await em.transactional(async (tx) => {
        user = tx.create(User, { id: newId('usr'), name: input.name, email, passwordHash, createdAt: now });
        workspace = tx.create(Workspace, { id: newId('ws'), name: input.workspaceName, timezone: input.timezone, createdAt: now });
        await tx.flush();
        tx.create(Membership, { id: newId('mem'), workspaceId: workspace.id, userId: user.id, role: 'owner', createdAt: now });
        await tx.flush();
      });
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw ApiError.conflict('An account with this email already exists', { field: 'email' });
      throw error;
    }
    return {
      token: this.issueJwt(user.id, workspace.id, 'owner'),
      workspace: workspaceView(workspace),
      user: userView(user),
      email_verification_required: false,
    };
  }

  async login(input: { email: string; password: string }) {
    const em = this.orm.em.fork();
    const user = await em.findOne(User, { email: input.email.trim().toLowerCase() });
    // Same answer and (roughly) the same work whether the email exists or not.
    const ok = user ? await verifyPassword(input.password, user.passwordHash) : (await hashPassword(input.password), false);
    if (!user || !ok) throw ApiError.unauthorized('Email or password is wrong');
    const memberships = await em.find(Membership, { userId: user.id }, { orderBy: { createdAt: 'asc' } });
    if (memberships.length === 0) throw ApiError.unauthorized('This account belongs to no workspace');
    const workspaces = await em.find(Workspace, { id: memberships.map((m) => m.workspaceId) });
    const byId = new Map(workspaces.map((w) => [w.id, w]));
    const first = memberships[0];
    return {
      token: this.issueJwt(user.id, first.workspaceId, first.role),
      workspace: workspaceView(byId.get(first.workspaceId)!),
      user: userView(user),
      workspaces: memberships.map((m) => ({ workspace: workspaceView(byId.get(m.workspaceId)!), role: m.role })),
    };
  }

  async listWorkspaces(principal: Principal) {
    const em = this.orm.em.fork();
    const memberships = await em.find(Membership, { userId: principal.userId }, { orderBy: { createdAt: 'asc' } });
    const workspaces = await em.find(Workspace, { id: memberships.map((m) => m.workspaceId) });
    const byId = new Map(workspaces.map((w) => [w.id, w]));
    return { data: memberships.map((m) => ({ ...workspaceView(byId.get(m.workspaceId)!), role: m.role })), next_cursor: null };
  }

  async switchWorkspace(principal: Principal, workspaceId: string) {
    const membership = await this.orm.em.fork().findOne(Membership, { userId: principal.userId, workspaceId });
    if (!membership) throw ApiError.notFound('Workspace');
    return { token: this.issueJwt(principal.userId, workspaceId, membership.role) };
  }

  async whoami(principal: Principal) {
    const em = this.orm.em.fork();
    const [user, workspace] = await Promise.all([em.findOne(User, { id: principal.userId }), em.findOne(Workspace, { id: principal.workspaceId })]);
    if (!user || !workspace) throw ApiError.unauthorized();
    return { user: userView(user), workspace: workspaceView(workspace), role: principal.role, via: principal.via };
  }

  /** Adds an existing user to the caller's workspace with a role (ours: SPEC names roles but no invitation flow). */
  async addMember(principal: Principal, input: { email: string; role: Role }) {
    if (principal.role !== 'owner') throw ApiError.forbidden('Only owners manage members');
    const em = this.orm.em.fork();
    const user = await em.findOne(User, { email: input.email.trim().toLowerCase() });
    if (!user) throw ApiError.notFound('User');
    if (await em.findOne(Membership, { userId: user.id, workspaceId: principal.workspaceId })) {
      throw ApiError.conflict('This user is already a member of the workspace');
    }
    const membership = em.create(Membership, { id: newId('mem'), workspaceId: principal.workspaceId, userId: user.id, role: input.role, createdAt: new Date() });
    await em.flush();
    return { user: userView(user), role: membership.role, created_at: membership.createdAt.toISOString() };
  }

  async listMembers(principal: Principal) {
    const em = this.orm.em.fork();
    const memberships = await em.find(Membership, { workspaceId: principal.workspaceId }, { orderBy: { createdAt: 'asc' } });
    const users = await em.find(User, { id: memberships.map((m) => m.userId) });
    const byId = new Map(users.map((u) => [u.id, u]));
    return { data: memberships.map((m) => ({ user: userView(byId.get(m.userId)!), role: m.role })), next_cursor: null };
  }

  async createApiToken(principal: Principal, name: string) {
    if (principal.role !== 'owner') throw ApiError.forbidden('Only owners create API tokens');
    const em = this.orm.em.fork();
    const token = newApiToken();
    const record = em.create(ApiToken, {
      id: newId('tok'),
      workspaceId: principal.workspaceId,
      userId: principal.userId,
      name,
      role: principal.role,
      tokenHash: hashToken(token),
      tokenPrefix: token.slice(0, API_TOKEN_PREFIX.length + 4),
      createdAt: new Date(),
    });
    await em.flush();
    return { id: record.id, name: record.name, role: record.role, token, created_at: record.createdAt.toISOString() };
  }

  async listApiTokens(principal: Principal) {
    const tokens = await this.orm.em.fork().find(ApiToken, { workspaceId: principal.workspaceId, revokedAt: null }, { orderBy: { id: 'desc' } });
    return { data: tokens.map(apiTokenView), next_cursor: null };
  }

  async revokeApiToken(principal: Principal, id: string) {
    if (principal.role !== 'owner') throw ApiError.forbidden('Only owners revoke API tokens');
    const em = this.orm.em.fork();
    const token = await em.findOne(ApiToken, { id, workspaceId: principal.workspaceId, revokedAt: null });
    if (!token) throw ApiError.notFound('API token');
    token.revokedAt = new Date();
    await em.flush();
    await this.redis.del(`pat:${token.tokenHash}`);
  }

  /** Resolves a bearer credential (a JWT or an API token) to a principal, or null. */
  async authenticate(bearer: string): Promise<Principal | null> {
    if (bearer.startsWith(API_TOKEN_PREFIX)) return this.authenticateApiToken(bearer);
    const claims = verifyJwt(bearer, this.config.jwtSecret, Math.floor(Date.now() / 1000));
    if (!claims) return null;
    return { userId: claims.sub, workspaceId: claims.ws, role: claims.role as Role, via: 'jwt' };
  }

  private async authenticateApiToken(token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const cacheKey = `pat:${hash}`;
    const cached = await this.redis.get(cacheKey).catch(() => null);
    if (cached) return JSON.parse(cached) as Principal;
    const em = this.orm.em.fork();
    const record = await em.findOne(ApiToken, { tokenHash: hash, revokedAt: null });
    if (!record) return null;
    const principal: Principal = { userId: record.userId, workspaceId: record.workspaceId, role: record.role, via: 'api_token' };
    await this.redis.set(cacheKey, JSON.stringify(principal), 'EX', TOKEN_CACHE_SECONDS).catch(() => undefined);
    await em.nativeUpdate(ApiToken, { id: record.id }, { lastUsedAt: new Date() });
    return principal;
  }

  private issueJwt(userId: string, workspaceId: string, role: Role): string {
    return signJwt({ sub: userId, ws: workspaceId, role }, this.config.jwtSecret, Math.floor(Date.now() / 1000), JWT_TTL_SECONDS);
  }
}
