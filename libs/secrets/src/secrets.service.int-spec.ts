import { randomBytes, randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Principal } from '@trigrun/accounts';
import { createScratchDatabase, type ScratchDatabase } from '@trigrun/database/testing';
import { toApiError } from '@trigrun/nest';
import { DomainError, ulid } from '@trigrun/util';
import { SecretCipher, SecretDecryptionError } from './secret-cipher';
import { SECRET_ENTITIES } from './secret.entity';
import { SecretsService, secretAad } from './secrets.service';

const ADMIN_URL = process.env.TRIGRUN_IT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const KEY_1 = randomBytes(32);
const KEY_2 = randomBytes(32);

describe('SecretsService (real Postgres)', () => {
  let db: ScratchDatabase;
  let orm: MikroORM;
  let sql: ScratchDatabase['sql'];
  let service: SecretsService;

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, SECRET_ENTITIES);
    ({ orm, sql } = db);
    service = new SecretsService(orm, new SecretCipher({ current: { version: 1, key: KEY_1 }, previous: new Map() }));
  });

  afterAll(async () => {
    await db?.dispose();
  });

  async function workspace(role: Principal['role'] = 'owner'): Promise<Principal> {
    const id = `ws_${ulid()}`;
    await sql.query('insert into workspaces (id, name, created_at) values ($1, $2, now())', [id, `it ${id}`]);
    return { userId: `usr_${ulid()}`, workspaceId: id, role, via: 'jwt' };
  }

  const apiError = async (work: Promise<unknown>) => {
    const error = await work.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DomainError);
    // What a client sees: the service's refusal as the error filter answers it.
    return toApiError(error);
  };

  it('creates a secret, answers with its metadata only, and stores only ciphertext', async () => {
    const owner = await workspace();
    const value = `sk_live_${randomUUID()}`;
    const created = await service.create(owner, { name: 'STRIPE_KEY', value });

    expect(Object.keys(created).sort()).toEqual(['created_at', 'environment', 'id', 'key_version', 'name']);
    expect(created).toMatchObject({ name: 'STRIPE_KEY', environment: 'workspace', key_version: 1 });
    expect(created.id).toMatch(/^sec_/);
    expect(created.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(JSON.stringify(created)).not.toContain(value);

    const { rows } = await sql.query('select * from secrets where id = $1', [created.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ workspace_id: owner.workspaceId, name: 'STRIPE_KEY', key_version: 1 });
    expect(JSON.stringify(rows[0])).not.toContain(value);
    expect(Buffer.from(rows[0].ciphertext, 'base64').includes(Buffer.from(value))).toBe(false);
  });

  it('lists names and metadata, never values, only of the caller’s workspace', async () => {
    const owner = await workspace();
    const other = await workspace();
    await service.create(owner, { name: 'b.token', value: 'value-of-b' });
    await service.create(owner, { name: 'A_KEY', value: 'value-of-a' });
    await service.create(other, { name: 'OTHER', value: 'value-of-other' });

    const listed = await service.list({ ...owner, role: 'member' });
    expect(listed.next_cursor).toBeNull();
    expect(listed.data.map((s) => s.name)).toEqual(['A_KEY', 'b.token']);
    for (const item of listed.data) expect(Object.keys(item).sort()).toEqual(['created_at', 'environment', 'id', 'key_version', 'name']);
    expect(JSON.stringify(listed)).not.toMatch(/value-of/);
  });

  it('refuses a duplicate name with 409, and lets two workspaces use the same name', async () => {
    const owner = await workspace();
    await service.create(owner, { name: 'DUP', value: 'first-value' });
    const error = await apiError(service.create({ ...owner, role: 'admin' }, { name: 'DUP', value: 'second-value' }));
    expect(error.status).toBe(409);
    expect(error.code).toBe('conflict');
    expect(error.message).not.toContain('second');
    await expect(service.create(await workspace(), { name: 'DUP', value: 'elsewhere-value' })).resolves.toMatchObject({ name: 'DUP' });
  });

  it('answers 409 to every loser of a race on one name; exactly one row is stored', async () => {
    const owner = await workspace();
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => service.create(owner, { name: 'RACED', value: `v${i}-value` })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) {
      expect(r.reason).toBeInstanceOf(DomainError);
      expect(toApiError(r.reason).status).toBe(409);
    }
    const { rows } = await sql.query('select count(*)::int as n from secrets where workspace_id = $1', [owner.workspaceId]);
    expect(rows[0].n).toBe(1);
  });

  it('deletes a secret (then its name is free again); an unknown or foreign id is 404', async () => {
    const owner = await workspace();
    const intruder = await workspace();
    const created = await service.create(owner, { name: 'GONE', value: 'to-be-deleted' });

    expect((await apiError(service.remove(intruder, created.id))).status).toBe(404);
    expect((await apiError(service.remove(owner, 'sec_unknown'))).status).toBe(404);
    await service.remove({ ...owner, role: 'admin' }, created.id);
    expect((await service.list(owner)).data).toEqual([]);
    expect((await apiError(service.remove(owner, created.id))).status).toBe(404);
    await expect(service.create(owner, { name: 'GONE', value: 'new value' })).resolves.toMatchObject({ name: 'GONE' });
  });

  it('lets only owners and admins write', async () => {
    const member = await workspace('member');
    expect((await apiError(service.create(member, { name: 'NOPE', value: 'long-enough-value' }))).status).toBe(403);
    expect((await apiError(service.remove(member, 'sec_x'))).status).toBe(403);
    const { rows } = await sql.query('select count(*)::int as n from secrets where workspace_id = $1', [member.workspaceId]);
    expect(rows[0].n).toBe(0);
  });

  it.each([
    ['a name with a colon', { name: 'a:b', value: 'valid-value' }, 'name'],
    ['a name of 129 characters', { name: 'n'.repeat(129), value: 'valid-value' }, 'name'],
    ['an empty value', { name: 'OK', value: '' }, 'value'],
    ['a value of 7 characters (too short to protect anything or to redact)', { name: 'OK', value: 'abc1234' }, 'value'],
    ['a value of 16385 characters', { name: 'OK', value: 'v'.repeat(16_385) }, 'value'],
    ['a value outside ASCII (it would reach the target as other bytes)', { name: 'OK', value: 'pässwörd-1234' }, 'value'],
    ['a value with a line break (no header can carry it)', { name: 'OK', value: 'token-1234\r\nX-Injected: 1' }, 'value'],
    ['a value with a NUL', { name: 'OK', value: 'token-1234\u0000' }, 'value'],
    ['a value that is not a string', { name: 'OK', value: 12345678 as unknown as string }, 'value'],
  ])('refuses %s with 400 and stores nothing', async (_case, input, field) => {
    const owner = await workspace();
    const error = await apiError(service.create(owner, input));
    expect(error.status).toBe(400);
    expect(error.details).toEqual({ fields: [expect.objectContaining({ field })] });
    if (typeof input.value === 'string' && input.value.length > 0) expect(JSON.stringify(error.details)).not.toContain(input.value.slice(0, 7));
    const { rows } = await sql.query('select count(*)::int as n from secrets where workspace_id = $1', [owner.workspaceId]);
    expect(rows[0].n).toBe(0);
  });

  it('resolves the named secrets of one workspace to their values', async () => {
    const owner = await workspace();
    const other = await workspace();
    await service.create(owner, { name: 'API_TOKEN', value: 'tok-123 $& "quoted"\t~' });
    await service.create(owner, { name: 'USER', value: 'ada-lovelace' });
    await service.create(other, { name: 'OTHERS', value: 'not yours' });

    const values = await service.resolve(owner.workspaceId, ['API_TOKEN', 'USER', 'OTHERS', 'MISSING', 'API_TOKEN', 'bad:name']);
    expect(Object.fromEntries(values)).toEqual({ API_TOKEN: 'tok-123 $& "quoted"\t~', USER: 'ada-lovelace' });
    expect((await service.resolve(owner.workspaceId, [])).size).toBe(0);
  });

  it('still resolves a short value stored before the 8-character rule (the redactor redacts it whatever its length)', async () => {
    const owner = await workspace();
    const cipher = new SecretCipher({ current: { version: 1, key: KEY_1 }, previous: new Map() });
    const sealed = cipher.encrypt('ada', secretAad(owner.workspaceId, 'LEGACY'));
    await sql.query('insert into secrets (id, workspace_id, name, ciphertext, key_version, created_at) values ($1, $2, $3, $4, $5, now())', [
      `sec_${ulid()}`,
      owner.workspaceId,
      'LEGACY',
      sealed.ciphertext,
      sealed.keyVersion,
    ]);
    expect(Object.fromEntries(await service.resolve(owner.workspaceId, ['LEGACY']))).toEqual({ LEGACY: 'ada' });
  });

  it('refuses to decrypt a row copied into another workspace', async () => {
    const victim = await workspace();
    const attacker = await workspace();
    const created = await service.create(victim, { name: 'COPIED', value: 'victim-value' });
    await sql.query(
      `insert into secrets (id, workspace_id, name, ciphertext, key_version, created_at)
       select $1, $2, name, ciphertext, key_version, created_at from secrets where id = $3`,
      [`sec_${ulid()}`, attacker.workspaceId, created.id],
    );
    await expect(service.resolve(attacker.workspaceId, ['COPIED'])).rejects.toThrow(SecretDecryptionError);
    await expect(service.resolve(attacker.workspaceId, ['COPIED'])).rejects.toThrow(/Secret "COPIED" could not be decrypted/);
    await expect(service.resolve(attacker.workspaceId, ['COPIED'])).rejects.not.toThrow(/victim-value/);
  });

  it('keeps values readable across a key rotation, and re-encrypts them under the new key', async () => {
    const owner = await workspace();
    await service.create(owner, { name: 'OLD', value: 'sealed-with-v1' });

    const rotated = new SecretsService(orm, new SecretCipher({ current: { version: 2, key: KEY_2 }, previous: new Map([[1, KEY_1]]) }));
    await rotated.create(owner, { name: 'NEW', value: 'sealed-with-v2' });
    expect(Object.fromEntries(await rotated.resolve(owner.workspaceId, ['OLD', 'NEW']))).toEqual({ OLD: 'sealed-with-v1', NEW: 'sealed-with-v2' });
    expect((await rotated.list(owner)).data.map((s) => [s.name, s.key_version])).toEqual([
      ['NEW', 2],
      ['OLD', 1],
    ]);

    // A row that cannot open (here: copied into another workspace) is reported, not fatal, and left
    // as it was. Other tests' rows share the table; the rewrite covers every workspace.
    const elsewhere = await workspace();
    const copiedId = `sec_${ulid()}`;
    await sql.query(
      `insert into secrets (id, workspace_id, name, ciphertext, key_version, created_at)
       select $1, $2, name, ciphertext, key_version, created_at from secrets where workspace_id = $3 and name = 'OLD'`,
      [copiedId, elsewhere.workspaceId, owner.workspaceId],
    );
    const report = await rotated.reencryptWithCurrentKey(3);
    expect(report.rewritten).toBeGreaterThanOrEqual(1);
    expect(report.undecryptable).toContain(copiedId);
    const { rows } = await sql.query('select id from secrets where key_version <> 2 order by id');
    expect(rows.map((r) => r.id)).toEqual([...report.undecryptable].sort());
    expect(await rotated.reencryptWithCurrentKey()).toEqual({ rewritten: 0, undecryptable: report.undecryptable });

    // The retired key is no longer needed.
    const v2Only = new SecretsService(orm, new SecretCipher({ current: { version: 2, key: KEY_2 }, previous: new Map() }));
    expect(Object.fromEntries(await v2Only.resolve(owner.workspaceId, ['OLD', 'NEW']))).toEqual({ OLD: 'sealed-with-v1', NEW: 'sealed-with-v2' });
  });

  it('binds the AAD to workspace and name', () => {
    expect(secretAad('ws_1', 'KEY')).toBe('secret:ws_1:KEY');
  });

  it('removes a workspace’s secrets with the workspace', async () => {
    const owner = await workspace();
    await service.create(owner, { name: 'CASCADE', value: 'cascade-value' });
    await sql.query('delete from workspaces where id = $1', [owner.workspaceId]);
    const { rows } = await sql.query('select count(*)::int as n from secrets where workspace_id = $1', [owner.workspaceId]);
    expect(rows[0].n).toBe(0);
  });
});
