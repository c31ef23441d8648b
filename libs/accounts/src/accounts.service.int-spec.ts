import { randomBytes } from 'node:crypto';
import { type AddressInfo, type Server, type Socket, createServer, connect as tcpConnect } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import Redis from 'ioredis';
import { createScratchDatabase, type ScratchDatabase } from '@trigrun/database/testing';
import { toApiError } from '@trigrun/nest';
import { type RedisClient, closeRedis, createRedis } from '@trigrun/redis';
import { DomainError } from '@trigrun/util';
import { AccountsService, type Principal } from './accounts.service';
import { hashToken } from './crypto';
import { ACCOUNT_ENTITIES, type Role } from './entities';

const ADMIN_URL = process.env.TRIGRUN_IT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TRIGRUN_IT_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NAMESPACE = `it-accounts-${randomBytes(4).toString('hex')}`;
const CONFIG = { jwtSecret: randomBytes(32).toString('hex'), signupEnabled: true };

type Command = Parameters<RedisClient['sendCommand']>[0];
const WRITES = new Set(['set', 'setex', 'eval', 'evalsha']);

/**
 * Holds the next write of `client` that names a key containing `fragment` (a cache fill: the
 * authenticating replica only writes to fill) until released. The latch sits on the real client's
 * command path, not in the code under test, so the same spec runs against any implementation of
 * the fill: the old unconditional SET as well as the guarded script.
 */
function holdNextFill(client: RedisClient, fragment: string) {
  const original = client.sendCommand.bind(client);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let markHeld!: () => void;
  const held = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no cache write of ${fragment} within 5 s`)), 5_000);
    markHeld = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  let armed = true;
  client.sendCommand = ((command: Command, stream?: never) => {
    if (armed && WRITES.has(command.name) && command.args.some((arg) => String(arg).includes(fragment))) {
      armed = false;
      markHeld();
      void released.then(() => original(command, stream));
      return command.promise;
    }
    return original(command, stream);
  }) as RedisClient['sendCommand'];
  return {
    held,
    release: () => {
      client.sendCommand = original as RedisClient['sendCommand'];
      release();
    },
  };
}

/** A TCP relay to Redis that the test can cut, so a client sees Redis go away for real. */
async function cuttableRedis(): Promise<{ url: string; cut: () => Promise<void>; restore: () => Promise<void> }> {
  const target = new URL(REDIS_URL);
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = tcpConnect(Number(target.port || 6379), target.hostname);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    cut: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    restore: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
  };
}

/** The service refuses with a DomainError; what a client sees is its HTTP answer (status, headers, body). */
const rejection = async (work: Promise<unknown>): Promise<ReturnType<typeof toApiError>> => {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return toApiError(error);
};

describe('AccountsService credentials against the real PostgreSQL and Redis (issue 9 class 2)', () => {
  let db: ScratchDatabase;
  let orm: MikroORM;
  /** Two gateway replicas: one authenticates (and fills the cache), the other takes the change. */
  let redisA: RedisClient;
  let redisB: RedisClient;
  let replicaA: AccountsService;
  let replicaB: AccountsService;
  const extraClients: RedisClient[] = [];

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, ACCOUNT_ENTITIES);
    orm = db.orm;
    redisA = createRedis(REDIS_URL, NAMESPACE);
    redisB = createRedis(REDIS_URL, NAMESPACE);
    await Promise.all([redisA.connect(), redisB.connect()]);
    replicaA = new AccountsService(orm, redisA, CONFIG);
    replicaB = new AccountsService(orm, redisB, CONFIG);
  });

  afterAll(async () => {
    const keys = await redisB.keys(`${NAMESPACE}:*`).catch(() => []);
    // KEYS answers with the prefix, and DEL would add it again: delete through an unprefixed client.
    const raw = new Redis(REDIS_URL);
    if (keys.length > 0) await raw.del(...keys).catch(() => undefined);
    await Promise.all([redisA, redisB, raw].map((client) => closeRedis(client)));
    // These lost their Redis on purpose: QUIT would wait for a connection that never comes back.
    for (const client of extraClients) client.disconnect();
    await db?.dispose();
  });

  let counter = 0;
  async function account(name = 'user') {
    counter += 1;
    const signed = await replicaB.signup({
      name,
      email: `${name}-${counter}-${randomBytes(4).toString('hex')}@example.test`,
      password: 'correct horse battery',
      workspaceName: `${name} workspace`,
      timezone: 'UTC',
    });
    const principal = (await replicaB.authenticate(signed.token))!;
    expect(principal).toMatchObject({ userId: signed.user.id, workspaceId: signed.workspace.id, role: 'owner', via: 'jwt' });
    return { ...signed, principal };
  }

  /** A second user added to `owner`'s workspace with `role`, and their JWT for that workspace. */
  async function memberOf(owner: Principal, role: Role) {
    const user = await account('member');
    await replicaB.addMember(owner, { email: user.user.email, role });
    const { token } = await replicaB.switchWorkspace(user.principal, { workspaceId: owner.workspaceId });
    return { userId: user.user.id, token };
  }

  const cachedEntries = (pattern: string) => redisB.keys(`${NAMESPACE}:${pattern}`);

  describe('API-token revocation', () => {
    it('a revoke landing between a request’s database read and its cache fill is not undone by the fill', async () => {
      const owner = await account('race');
      const created = await replicaB.createApiToken(owner.principal, { name: 'ci' });
      const hash = hashToken(created.token);

      // Replica A reads the token row, and its cache write is held right there.
      const latch = holdNextFill(redisA, `pat:${hash}`);
      const inFlight = replicaA.authenticate(created.token);
      await latch.held;

      // Replica B revokes while A's fill waits; the revoke answers.
      await replicaB.revokeApiToken(owner.principal, created.id);

      // A's fill goes on. The request it belongs to was authenticated before the revoke answered.
      latch.release();
      await expect(inFlight).resolves.toMatchObject({ workspaceId: owner.principal.workspaceId, via: 'api_token' });

      // Every request after the revoke answered is refused, on either replica, for good.
      await expect(replicaA.authenticate(created.token)).resolves.toBeNull();
      await expect(replicaB.authenticate(created.token)).resolves.toBeNull();
      expect(await cachedEntries(`pat:${hash}`)).toEqual([]);
      expect(await cachedEntries(`pat-revoked:${hash}`)).toHaveLength(1);
    });

    it('a warm cache entry dies with the revoke, and revoking again (a retried DELETE) answers the same', async () => {
      const owner = await account('warm');
      const created = await replicaB.createApiToken(owner.principal, { name: 'warm' });
      for (let i = 0; i < 2; i++) await expect(replicaA.authenticate(created.token)).resolves.toMatchObject({ role: 'owner', via: 'api_token' });
      expect(await cachedEntries(`pat:${hashToken(created.token)}`)).toHaveLength(1);

      await replicaB.revokeApiToken(owner.principal, created.id);
      await expect(replicaA.authenticate(created.token)).resolves.toBeNull();
      await expect(replicaB.revokeApiToken(owner.principal, created.id)).resolves.toBeUndefined();
      const { rows } = await db.sql.query('select revoked_at from api_tokens where id = $1', [created.id]);
      expect(rows[0].revoked_at).toBeInstanceOf(Date);
    });

    it('answers 404 for another workspace’s token or an id that cannot be one, and revokes nothing', async () => {
      const owner = await account('own');
      const other = await account('other');
      const created = await replicaB.createApiToken(owner.principal, { name: 'mine' });
      expect((await rejection(replicaB.revokeApiToken(other.principal, created.id))).status).toBe(404);
      for (const id of ['tok_\u0000', 'tok_../x', 'x'.repeat(500), '']) {
        expect((await rejection(replicaB.revokeApiToken(owner.principal, id))).status).toBe(404);
      }
      await expect(replicaA.authenticate(created.token)).resolves.toMatchObject({ via: 'api_token' });
    });

    it('refuses bearer strings that cannot be a token without looking them up', async () => {
      for (const bearer of ['cron_pat_', 'cron_pat_short', `cron_pat_${'A'.repeat(43)}=`, `cron_pat_${'A'.repeat(42)}\u0000`, `cron_pat_${'A'.repeat(5000)}`]) {
        await expect(replicaA.authenticate(bearer)).resolves.toBeNull();
      }
    });
  });

  describe('Redis unreachable', () => {
    it('during a revoke: 503 unavailable with Retry-After, the row revoked, and the repeated DELETE completes it', async () => {
      const owner = await account('outage');
      const created = await replicaB.createApiToken(owner.principal, { name: 'outage' });
      const relay = await cuttableRedis();
      const viaRelay = createRedis(relay.url, NAMESPACE);
      extraClients.push(viaRelay);
      await viaRelay.connect();
      const cutOff = new AccountsService(orm, viaRelay, CONFIG);
      // Warm: the entry sits in Redis, where a replica that still reaches Redis will find it.
      await expect(cutOff.authenticate(created.token)).resolves.toMatchObject({ via: 'api_token' });
      expect(await cachedEntries(`pat:${hashToken(created.token)}`)).toHaveLength(1);

      await relay.cut();
      const started = performance.now();
      const error = await rejection(cutOff.revokeApiToken(owner.principal, created.id));
      expect(error.status).toBe(503);
      expect(error.toBody().error.code).toBe('unavailable');
      expect(error.headers['retry-after']).toBe('1');
      expect(performance.now() - started).toBeLessThan(3_000);
      const { rows } = await db.sql.query('select revoked_at from api_tokens where id = $1', [created.id]);
      expect(rows[0].revoked_at).toBeInstanceOf(Date);

      // The replica without Redis reads the database: refused, and quickly.
      const authStarted = performance.now();
      await expect(cutOff.authenticate(created.token)).resolves.toBeNull();
      expect(performance.now() - authStarted).toBeLessThan(1_000);
      // Why the revoke could not answer 204: the entry survived where Redis is reachable.
      await expect(replicaA.authenticate(created.token)).resolves.toMatchObject({ via: 'api_token' });

      // The client repeats the DELETE (here through a replica that reaches Redis): done.
      await replicaB.revokeApiToken(owner.principal, created.id);
      await expect(replicaA.authenticate(created.token)).resolves.toBeNull();
    });

    it('during a revoke: the replica completes the invalidation itself once Redis is back, without the client repeating it', async () => {
      const owner = await account('heal');
      const created = await replicaB.createApiToken(owner.principal, { name: 'heal' });
      const relay = await cuttableRedis();
      const viaRelay = createRedis(relay.url, NAMESPACE);
      extraClients.push(viaRelay);
      await viaRelay.connect();
      const cutOff = new AccountsService(orm, viaRelay, CONFIG);
      await expect(cutOff.authenticate(created.token)).resolves.toMatchObject({ via: 'api_token' });

      await relay.cut();
      expect((await rejection(cutOff.revokeApiToken(owner.principal, created.id))).status).toBe(503);
      expect(await cachedEntries(`pat:${hashToken(created.token)}`)).toHaveLength(1);

      await relay.restore();
      const deadline = performance.now() + 10_000;
      while ((await cachedEntries(`pat:${hashToken(created.token)}`)).length > 0 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await cachedEntries(`pat:${hashToken(created.token)}`)).toEqual([]);
      expect(await cachedEntries(`pat-revoked:${hashToken(created.token)}`)).toHaveLength(1);
      await expect(replicaA.authenticate(created.token)).resolves.toBeNull();
      await relay.cut();
    });

    it('during authentication: the database answers, for tokens and memberships, and nothing stale is used', async () => {
      const owner = await account('down');
      const created = await replicaB.createApiToken(owner.principal, { name: 'down' });
      const admin = await memberOf(owner.principal, 'admin');
      const relay = await cuttableRedis();
      const viaRelay = createRedis(relay.url, NAMESPACE);
      extraClients.push(viaRelay);
      await viaRelay.connect();
      const cutOff = new AccountsService(orm, viaRelay, CONFIG);
      await relay.cut();

      await expect(cutOff.authenticate(created.token)).resolves.toMatchObject({ role: 'owner', via: 'api_token' });
      await expect(cutOff.authenticate(admin.token)).resolves.toMatchObject({ role: 'admin', via: 'jwt' });
      // A change made meanwhile through a replica that reaches Redis is seen at once.
      await replicaB.changeMemberRole(owner.principal, { userId: admin.userId, role: 'member' });
      await expect(cutOff.authenticate(admin.token)).resolves.toMatchObject({ role: 'member' });
      await replicaB.revokeApiToken(owner.principal, created.id);
      await expect(cutOff.authenticate(created.token)).resolves.toBeNull();
    });
  });

  describe('memberships: checked on every request, not trusted from the JWT', () => {
    it('a role change holds for the next request, though the cache was warm and the JWT says otherwise', async () => {
      const owner = await account('roles');
      const admin = await memberOf(owner.principal, 'admin');
      for (let i = 0; i < 2; i++) await expect(replicaA.authenticate(admin.token)).resolves.toMatchObject({ role: 'admin' });

      const changed = await replicaB.changeMemberRole(owner.principal, { userId: admin.userId, role: 'member' });
      expect(changed).toMatchObject({ user: { id: admin.userId }, role: 'member' });
      await expect(replicaA.authenticate(admin.token)).resolves.toMatchObject({ role: 'member', via: 'jwt' });
      await replicaB.changeMemberRole(owner.principal, { userId: admin.userId, role: 'owner' });
      await expect(replicaA.authenticate(admin.token)).resolves.toMatchObject({ role: 'owner' });
    });

    it('a role change landing between a request’s membership read and its cache fill is not undone', async () => {
      const owner = await account('role-race');
      const admin = await memberOf(owner.principal, 'admin');
      const latch = holdNextFill(redisA, `mbr:${owner.principal.workspaceId}:${admin.userId}`);
      const inFlight = replicaA.authenticate(admin.token);
      await latch.held;
      await replicaB.changeMemberRole(owner.principal, { userId: admin.userId, role: 'member' });
      latch.release();
      await expect(inFlight).resolves.toMatchObject({ role: 'admin' });
      await expect(replicaA.authenticate(admin.token)).resolves.toMatchObject({ role: 'member' });
    });

    it('a removal landing between a request’s membership read and its cache fill is not undone', async () => {
      const owner = await account('remove-race');
      const admin = await memberOf(owner.principal, 'admin');
      const latch = holdNextFill(redisA, `mbr:${owner.principal.workspaceId}:${admin.userId}`);
      const inFlight = replicaA.authenticate(admin.token);
      await latch.held;
      await replicaB.removeMember(owner.principal, admin.userId);
      latch.release();
      await expect(inFlight).resolves.toMatchObject({ role: 'admin' });
      await expect(replicaA.authenticate(admin.token)).resolves.toBeNull();
      await expect(replicaB.authenticate(admin.token)).resolves.toBeNull();
    });

    it('a removed member’s JWT and API tokens are refused right after the removal answers, and adding them back revives only the membership', async () => {
      const owner = await account('removal');
      const other = await memberOf(owner.principal, 'owner');
      const otherPrincipal = (await replicaA.authenticate(other.token))!;
      const pat = await replicaB.createApiToken(otherPrincipal, { name: 'theirs' });
      for (let i = 0; i < 2; i++) {
        await expect(replicaA.authenticate(other.token)).resolves.toMatchObject({ role: 'owner' });
        await expect(replicaA.authenticate(pat.token)).resolves.toMatchObject({ role: 'owner', via: 'api_token' });
      }

      await replicaB.removeMember(owner.principal, other.userId);
      await expect(replicaA.authenticate(other.token)).resolves.toBeNull();
      await expect(replicaA.authenticate(pat.token)).resolves.toBeNull();
      // Their own workspace is untouched.
      const login = await replicaA.login({ email: (await db.sql.query('select email from users where id = $1', [other.userId])).rows[0].email, password: 'correct horse battery' });
      expect(login.workspaces.map((w) => w.workspace.id)).not.toContain(owner.principal.workspaceId);
      await expect(replicaA.authenticate(login.token)).resolves.toMatchObject({ userId: other.userId, role: 'owner' });

      // Removing again answers 404 (and invalidates again); adding back does not revive the old token.
      expect((await rejection(replicaB.removeMember(owner.principal, other.userId))).status).toBe(404);
      await replicaB.addMember(owner.principal, { email: login.user.email, role: 'member' });
      await expect(replicaA.authenticate(other.token)).resolves.toMatchObject({ role: 'member' });
      await expect(replicaA.authenticate(pat.token)).resolves.toBeNull();
    });

    it('an API token never has more than its creator has now', async () => {
      const owner = await account('cap');
      const second = await memberOf(owner.principal, 'owner');
      const secondPrincipal = (await replicaA.authenticate(second.token))!;
      const pat = await replicaB.createApiToken(secondPrincipal, { name: 'owner token' });
      await expect(replicaA.authenticate(pat.token)).resolves.toMatchObject({ role: 'owner' });
      await replicaB.changeMemberRole(owner.principal, { userId: second.userId, role: 'member' });
      await expect(replicaA.authenticate(pat.token)).resolves.toMatchObject({ role: 'member', via: 'api_token' });
      await replicaB.changeMemberRole(owner.principal, { userId: second.userId, role: 'admin' });
      await expect(replicaA.authenticate(pat.token)).resolves.toMatchObject({ role: 'admin' });
    });

    it('keeps one owner: the last cannot be demoted or removed, even by two owners at once', async () => {
      const owner = await account('last');
      expect((await rejection(replicaB.changeMemberRole(owner.principal, { userId: owner.principal.userId, role: 'admin' }))).status).toBe(409);
      expect((await rejection(replicaB.removeMember(owner.principal, owner.principal.userId))).status).toBe(409);

      const second = await memberOf(owner.principal, 'owner');
      const secondPrincipal = (await replicaA.authenticate(second.token))!;
      const outcomes = await Promise.allSettled([
        replicaA.changeMemberRole(owner.principal, { userId: second.userId, role: 'member' }),
        replicaB.changeMemberRole(secondPrincipal, { userId: owner.principal.userId, role: 'member' }),
      ]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
      const { rows } = await db.sql.query("select count(*)::int as owners from memberships where workspace_id = $1 and role = 'owner'", [owner.principal.workspaceId]);
      expect(rows[0].owners).toBe(1);
    });

    it('only owners change roles or remove members; unknown users and impossible ids answer 404', async () => {
      const owner = await account('perm');
      const admin = await memberOf(owner.principal, 'admin');
      const adminPrincipal = (await replicaA.authenticate(admin.token))!;
      expect((await rejection(replicaB.changeMemberRole(adminPrincipal, { userId: owner.principal.userId, role: 'member' }))).status).toBe(403);
      expect((await rejection(replicaB.removeMember(adminPrincipal, owner.principal.userId))).status).toBe(403);
      const stranger = await account('stranger');
      expect((await rejection(replicaB.changeMemberRole(owner.principal, { userId: stranger.user.id, role: 'admin' }))).status).toBe(404);
      expect((await rejection(replicaB.removeMember(owner.principal, stranger.user.id))).status).toBe(404);
      for (const id of ['usr_\u0000', '%00', 'usr_' + 'A'.repeat(300)]) {
        expect((await rejection(replicaB.changeMemberRole(owner.principal, { userId: id, role: 'admin' }))).status).toBe(404);
        expect((await rejection(replicaB.removeMember(owner.principal, id))).status).toBe(404);
      }
      await expect(replicaA.authenticate(stranger.token)).resolves.toMatchObject({ role: 'owner' });
    });

    it('eight parallel adds of one user: one succeeds, seven are 409 conflicts', async () => {
      const owner = await account('parallel');
      const user = await account('joiner');
      const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => replicaB.addMember(owner.principal, { email: user.user.email, role: 'member' })));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const statuses = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason instanceof DomainError ? toApiError(o.reason).status : o.reason] : []));
      expect(statuses).toEqual(Array(7).fill(409));
    });
  });
});
