import { Inject, Injectable, Logger } from '@nestjs/common';
import { LockMode, type MikroORM } from '@mikro-orm/postgresql';
import { InjectOrm, InjectRedis } from '@trigrun/nest';
import type { RedisClient } from '@trigrun/redis';
import { DomainError, newId } from '@trigrun/util';
import { CacheUnavailableError, CredentialCache, type GuardedKey, membershipKey, tokenKey } from './credential-cache';
import { API_TOKEN_PREFIX, hashPassword, hashToken, newApiToken, signJwt, verifyJwt, verifyPassword } from './crypto';
import { ApiToken, Membership, ROLES, type Role, User, Workspace } from './entities';

export interface Principal {
  readonly userId: string;
  readonly workspaceId: string;
  readonly role: Role;
  readonly via: 'jwt' | 'api_token';
}

/*
 * Commands: what a caller asks of the service, in the code's own camelCase. The HTTP controllers
 * build them from the snake_case bodies (apps/api-gateway/src/dto/auth.dto.ts); a CLI or MCP
 * server would build the same ones from their own input.
 */
export interface SignupCommand {
  readonly name: string;
  readonly email: string;
  readonly password: string;
  readonly workspaceName: string;
  readonly timezone: string;
}
export interface LoginCommand {
  readonly email: string;
  readonly password: string;
}
export interface SwitchWorkspaceCommand {
  readonly workspaceId: string;
}
export interface AddMemberCommand {
  readonly email: string;
  readonly role: Role;
}
export interface ChangeMemberRoleCommand {
  readonly userId: string;
  readonly role: Role;
}
export interface CreateApiTokenCommand {
  readonly name: string;
}

export interface AccountsConfig {
  readonly jwtSecret: string;
  readonly signupEnabled: boolean;
}
export const ACCOUNTS_CONFIG = Symbol('ACCOUNTS_CONFIG');

const JWT_TTL_SECONDS = 7 * 24 * 3600;
/** What a 503 from a change whose cache invalidation failed asks the client to wait before repeating it. */
const RETRY_INVALIDATION_SECONDS = 1;
/** The only shape an API token has (`newApiToken`): anything else is refused without a lookup. */
const API_TOKEN_SHAPE = /^cron_pat_[A-Za-z0-9_-]{43}$/;
/** Ids we issue are `<prefix>_<ulid>`; anything else in a path cannot name a row (and may not reach SQL: NUL). */
const ID_SHAPE = /^[a-z]{2,5}_[0-9A-Za-z]{1,64}$/;
/** A membership cache entry saying "not a member", so a removed member's requests do not all reach the database. */
const NOT_A_MEMBER = '-';
const RANK: Record<Role, number> = { member: 1, admin: 2, owner: 3 };
const lowerRole = (a: Role, b: Role): Role => (RANK[a] <= RANK[b] ? a : b);
const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);

interface TokenGrant {
  readonly userId: string;
  readonly workspaceId: string;
  readonly role: Role;
}
const parseGrant = (text: string): TokenGrant | null => {
  try {
    const value = JSON.parse(text) as Partial<TokenGrant>;
    return typeof value.userId === 'string' && typeof value.workspaceId === 'string' && isRole(value.role)
      ? { userId: value.userId, workspaceId: value.workspaceId, role: value.role }
      : null;
  } catch {
    return null;
  }
};

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

/**
 * Accounts, memberships and credentials. A credential is checked against the current state on
 * every request: an API token against its row, and every principal (JWT or token) against the
 * membership it names, both through the guarded cache of credential-cache.ts. So a revocation, a
 * role change or a removal holds for every request authenticated after it answered; the JWT's
 * `role` claim is informational.
 */
@Injectable()
export class AccountsService {
  private readonly logger = new Logger('accounts');
  private readonly cache: CredentialCache;

  constructor(
    @InjectOrm() private readonly orm: MikroORM,
    @InjectRedis() redis: RedisClient,
    @Inject(ACCOUNTS_CONFIG) private readonly config: AccountsConfig,
  ) {
    this.cache = new CredentialCache(redis);
  }

  async signup(input: SignupCommand) {
    if (!this.config.signupEnabled) throw DomainError.forbidden('Signup is closed on this installation');
    const em = this.orm.em.fork();
    const email = input.email.trim().toLowerCase();
    if (await em.findOne(User, { email })) {
      throw DomainError.conflict('An account with this email already exists', { field: 'email' });
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
      if ((error as { code?: string }).code === '23505') throw DomainError.conflict('An account with this email already exists', { field: 'email' });
      throw error;
    }
    return {
      token: this.issueJwt(user.id, workspace.id, 'owner'),
      workspace: workspaceView(workspace),
      user: userView(user),
      email_verification_required: false,
    };
  }

  async login(input: LoginCommand) {
    const em = this.orm.em.fork();
    const user = await em.findOne(User, { email: input.email.trim().toLowerCase() });
    // Same answer and (roughly) the same work whether the email exists or not.
    const ok = user ? await verifyPassword(input.password, user.passwordHash) : (await hashPassword(input.password), false);
    if (!user || !ok) throw DomainError.unauthorized('Email or password is wrong');
    const memberships = await em.find(Membership, { userId: user.id }, { orderBy: { createdAt: 'asc' } });
    if (memberships.length === 0) throw DomainError.unauthorized('This account belongs to no workspace');
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

  async switchWorkspace(principal: Principal, { workspaceId }: SwitchWorkspaceCommand) {
    const membership = await this.orm.em.fork().findOne(Membership, { userId: principal.userId, workspaceId });
    if (!membership) throw DomainError.notFound('Workspace');
    return { token: this.issueJwt(principal.userId, workspaceId, membership.role) };
  }

  async whoami(principal: Principal) {
    const em = this.orm.em.fork();
    const [user, workspace] = await Promise.all([em.findOne(User, { id: principal.userId }), em.findOne(Workspace, { id: principal.workspaceId })]);
    if (!user || !workspace) throw DomainError.unauthorized();
    return { user: userView(user), workspace: workspaceView(workspace), role: principal.role, via: principal.via };
  }

  /** Adds an existing user to the caller's workspace with a role (there is no invitation flow; roles: docs/authentication.md). */
  async addMember(principal: Principal, input: AddMemberCommand) {
    if (principal.role !== 'owner') throw DomainError.forbidden('Only owners manage members');
    const em = this.orm.em.fork();
    const user = await em.findOne(User, { email: input.email.trim().toLowerCase() });
    if (!user) throw DomainError.notFound('User');
    const alreadyMember = () => DomainError.conflict('This user is already a member of the workspace');
    if (await em.findOne(Membership, { userId: user.id, workspaceId: principal.workspaceId })) throw alreadyMember();
    const membership = em.create(Membership, { id: newId('mem'), workspaceId: principal.workspaceId, userId: user.id, role: input.role, createdAt: new Date() });
    try {
      await em.flush();
    } catch (error) {
      // Two adds of one user at once: the unique (workspace_id, user_id) decides, the loser is told so.
      if ((error as { code?: string }).code === '23505') throw alreadyMember();
      throw error;
    }
    // A cached "not a member" only refuses the new member for a while; it grants nothing, so a
    // failed invalidation does not fail the add.
    await this.cache.invalidate([membershipKey(principal.workspaceId, user.id)]).catch((error: unknown) => {
      this.logger.warn(`membership cache not invalidated after an add: ${(error as Error).message}`);
    });
    return { user: userView(user), role: membership.role, created_at: membership.createdAt.toISOString() };
  }

  /**
   * Changes a member's role (owners only). Takes effect for every request authenticated after this
   * answers: the guard reads the membership, not the JWT's claim. A workspace keeps at least one owner.
   */
  async changeMemberRole(principal: Principal, { userId, role }: ChangeMemberRoleCommand) {
    if (principal.role !== 'owner') throw DomainError.forbidden('Only owners manage members');
    if (!ID_SHAPE.test(userId)) throw DomainError.notFound('Member');
    const em = this.orm.em.fork();
    const membership = await em.transactional(async (tx) => {
      const member = await this.lockMembership(tx, principal.workspaceId, userId);
      if (!member) throw DomainError.notFound('Member');
      if (member.role === 'owner' && role !== 'owner') await this.keepAnOwner(tx, principal.workspaceId);
      member.role = role;
      return member;
    });
    await this.invalidateOrUnavailable([membershipKey(principal.workspaceId, userId)], 'The role is changed');
    // A membership's user row cannot go while the membership stands (on delete cascade).
    const user = await em.findOne(User, { id: userId });
    if (!user) throw DomainError.notFound('Member');
    return { user: userView(user), role: membership.role, created_at: membership.createdAt.toISOString() };
  }

  /**
   * Removes a member (owners only; not the last owner) and revokes the API tokens they made in
   * this workspace, so adding them again later does not bring old tokens back. Their JWTs and
   * tokens answer 401 for this workspace from the moment this answers.
   */
  async removeMember(principal: Principal, userId: string): Promise<void> {
    if (principal.role !== 'owner') throw DomainError.forbidden('Only owners manage members');
    if (!ID_SHAPE.test(userId)) throw DomainError.notFound('Member');
    const em = this.orm.em.fork();
    const { removed, tokenHashes } = await em.transactional(async (tx) => {
      const member = await this.lockMembership(tx, principal.workspaceId, userId);
      if (member?.role === 'owner') await this.keepAnOwner(tx, principal.workspaceId);
      if (member) tx.remove(member);
      await tx.nativeUpdate(ApiToken, { workspaceId: principal.workspaceId, userId, revokedAt: null }, { revokedAt: new Date() });
      // Every token of theirs here, revoked now or before: a repeated removal repeats the invalidation.
      const tokens = await tx.find(ApiToken, { workspaceId: principal.workspaceId, userId }, { fields: ['tokenHash'] });
      return { removed: member !== null, tokenHashes: tokens.map((t) => t.tokenHash) };
    });
    // Invalidated even when there was nothing to remove: this is how a removal that answered 503
    // (committed, cache not cleared) is completed by repeating it.
    await this.invalidateOrUnavailable([membershipKey(principal.workspaceId, userId), ...tokenHashes.map(tokenKey)], 'The member is removed');
    if (!removed) throw DomainError.notFound('Member');
  }

  /** The membership row, locked along with its workspace so concurrent owner changes are serialised. */
  private async lockMembership(tx: typeof this.orm.em, workspaceId: string, userId: string): Promise<Membership | null> {
    await tx.findOne(Workspace, { id: workspaceId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    return tx.findOne(Membership, { workspaceId, userId });
  }

  private async keepAnOwner(tx: typeof this.orm.em, workspaceId: string): Promise<void> {
    if ((await tx.count(Membership, { workspaceId, role: 'owner' })) <= 1) {
      throw DomainError.conflict('A workspace needs at least one owner: make another member an owner first');
    }
  }

  async listMembers(principal: Principal) {
    const em = this.orm.em.fork();
    const memberships = await em.find(Membership, { workspaceId: principal.workspaceId }, { orderBy: { createdAt: 'asc' } });
    const users = await em.find(User, { id: memberships.map((m) => m.userId) });
    const byId = new Map(users.map((u) => [u.id, u]));
    return { data: memberships.map((m) => ({ user: userView(byId.get(m.userId)!), role: m.role })), next_cursor: null };
  }

  async createApiToken(principal: Principal, { name }: CreateApiTokenCommand) {
    if (principal.role !== 'owner') throw DomainError.forbidden('Only owners create API tokens');
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

  /**
   * Revokes at once: the row is marked, then the token's tombstone is written and its cache entry
   * deleted, before the 204. If Redis does not take that, the answer is a 503 (the row is revoked,
   * but a cached entry could outlive the answer) and repeating the DELETE completes it: revoking a
   * revoked token is a 204.
   */
  async revokeApiToken(principal: Principal, id: string): Promise<void> {
    if (principal.role !== 'owner') throw DomainError.forbidden('Only owners revoke API tokens');
    if (!ID_SHAPE.test(id)) throw DomainError.notFound('API token');
    const em = this.orm.em.fork();
    const token = await em.findOne(ApiToken, { id, workspaceId: principal.workspaceId });
    if (!token) throw DomainError.notFound('API token');
    await em.nativeUpdate(ApiToken, { id, revokedAt: null }, { revokedAt: new Date() });
    await this.invalidateOrUnavailable([tokenKey(token.tokenHash)], 'The token is revoked');
  }

  /** Resolves a bearer credential (a JWT or an API token) to a principal, or null. */
  async authenticate(bearer: string): Promise<Principal | null> {
    if (bearer.startsWith(API_TOKEN_PREFIX)) {
      const grant = API_TOKEN_SHAPE.test(bearer) ? await this.apiTokenGrant(bearer) : null;
      if (!grant) return null;
      const memberRole = await this.memberRole(grant.workspaceId, grant.userId);
      // A token carries its creator's role, but never more than the creator has now.
      return memberRole ? { userId: grant.userId, workspaceId: grant.workspaceId, role: lowerRole(grant.role, memberRole), via: 'api_token' } : null;
    }
    const claims = verifyJwt(bearer, this.config.jwtSecret, Math.floor(Date.now() / 1000));
    if (!claims) return null;
    const role = await this.memberRole(claims.ws, claims.sub);
    return role ? { userId: claims.sub, workspaceId: claims.ws, role, via: 'jwt' } : null;
  }

  private async apiTokenGrant(token: string): Promise<TokenGrant | null> {
    const hash = hashToken(token);
    const key = tokenKey(hash);
    const snapshot = await this.cache.read(key);
    const cached = snapshot?.value ? parseGrant(snapshot.value) : null;
    if (cached) return cached;
    const em = this.orm.em.fork();
    const record = await em.findOne(ApiToken, { tokenHash: hash, revokedAt: null });
    if (!record) return null;
    const grant: TokenGrant = { userId: record.userId, workspaceId: record.workspaceId, role: record.role };
    if (snapshot) await this.cache.fill(key, snapshot, JSON.stringify(grant));
    await em.nativeUpdate(ApiToken, { id: record.id }, { lastUsedAt: new Date() });
    return grant;
  }

  /** The user's current role in the workspace, or null if they are not a member. */
  private async memberRole(workspaceId: string, userId: string): Promise<Role | null> {
    const key = membershipKey(workspaceId, userId);
    const snapshot = await this.cache.read(key);
    if (snapshot?.value === NOT_A_MEMBER) return null;
    if (isRole(snapshot?.value)) return snapshot.value;
    const membership = await this.orm.em.fork().findOne(Membership, { workspaceId, userId });
    if (snapshot) await this.cache.fill(key, snapshot, membership?.role ?? NOT_A_MEMBER);
    return membership?.role ?? null;
  }

  private async invalidateOrUnavailable(keys: readonly GuardedKey[], done: string): Promise<void> {
    try {
      await this.cache.invalidate(keys);
    } catch (error) {
      if (!(error instanceof CacheUnavailableError)) throw error;
      this.logger.warn(`credential cache not invalidated: ${(error.cause as Error)?.message ?? error.message}`);
      throw DomainError.unavailable(
        `${done} in the database, but the credential cache could not be cleared, so the old credential may still work for up to a minute. Repeat the same request to complete it.`,
        RETRY_INVALIDATION_SECONDS,
      );
    }
  }

  private issueJwt(userId: string, workspaceId: string, role: Role): string {
    return signJwt({ sub: userId, ws: workspaceId, role }, this.config.jwtSecret, Math.floor(Date.now() / 1000), JWT_TTL_SECONDS);
  }
}
