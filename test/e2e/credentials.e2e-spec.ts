import { api, signup } from './support/client';
import { expectError, expectValidation, memberOf } from './support/fixtures';

// See accounts.e2e-spec.ts: jest applies testTimeout globally, not per project.
jest.setTimeout(60_000);

const job = (name: string) => ({ name, kind: 'one_time', state: 'draft', request: { url: 'https://example.com/' } });

describe('credentials hold what the membership says now (issue 9 class 2, docs/authentication.md)', () => {
  it('a role change holds for the very next request, whatever the JWT claims', async () => {
    const owner = await signup('rc-owner');
    const { user, token } = await memberOf(owner, 'admin');
    expect((await api('POST', '/v1/jobs', { token, body: job('as admin') })).status).toBe(201);

    const changed = await api('PATCH', `/v1/workspace/members/${user.userId}`, { token: owner.token, body: { role: 'member' } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ user: { id: user.userId }, role: 'member' });
    expectError(await api('POST', '/v1/jobs', { token, body: job('as member') }), 403, 'forbidden');
    expect((await api('GET', '/v1/auth/whoami', { token })).body).toMatchObject({ role: 'member' });
    const members = await api('GET', '/v1/workspace/members', { token: owner.token });
    expect(members.body.data).toEqual(expect.arrayContaining([expect.objectContaining({ user: expect.objectContaining({ id: user.userId }), role: 'member' })]));

    expectValidation(await api('PATCH', `/v1/workspace/members/${user.userId}`, { token: owner.token, body: { role: 'superuser' } }), 'role');
    expectError(await api('PATCH', `/v1/workspace/members/${user.userId}`, { token, body: { role: 'owner' } }), 403, 'forbidden');
  });

  it('a removed member’s JWT and API tokens answer 401 right after the removal answers', async () => {
    const owner = await signup('rm-owner');
    const { user, token } = await memberOf(owner, 'admin');
    await api('PATCH', `/v1/workspace/members/${user.userId}`, { token: owner.token, body: { role: 'owner' } });
    const pat = await api('POST', '/v1/api-tokens', { token, body: { name: 'theirs' } });
    expect(pat.status).toBe(201);
    for (let i = 0; i < 2; i++) {
      expect((await api('GET', '/v1/jobs', { token })).status).toBe(200);
      expect((await api('GET', '/v1/jobs', { token: pat.body.token })).status).toBe(200);
    }

    const removed = await api('DELETE', `/v1/workspace/members/${user.userId}`, { token: owner.token });
    expect(removed.status).toBe(204);
    expectError(await api('GET', '/v1/jobs', { token }), 401, 'unauthorized');
    expectError(await api('POST', '/v1/jobs', { token: pat.body.token, body: job('after removal') }), 401, 'unauthorized');
    // Their own workspace still works with their own token.
    expect((await api('GET', '/v1/jobs', { token: user.token })).status).toBe(200);
    expectError(await api('DELETE', `/v1/workspace/members/${user.userId}`, { token: owner.token }), 404, 'not_found');
    // A control character in a path id is refused before any route runs (docs/input-validation.md).
    expectError(await api('DELETE', `/v1/workspace/members/${encodeURIComponent('usr_\u0000')}`, { token: owner.token }), 400, 'validation_failed');
  });

  it('the last owner can be neither demoted nor removed', async () => {
    const owner = await signup('last-owner');
    expectError(await api('PATCH', `/v1/workspace/members/${owner.userId}`, { token: owner.token, body: { role: 'admin' } }), 409, 'conflict');
    expectError(await api('DELETE', `/v1/workspace/members/${owner.userId}`, { token: owner.token }), 409, 'conflict');
    expect((await api('GET', '/v1/jobs', { token: owner.token })).status).toBe(200);
  });

  it('a JWT is accepted in the one spelling it was issued in: padding, spaces or stray bits answer 401, never 500', async () => {
    const owner = await signup('strict');
    const [header, payload, signature] = owner.token.split('.');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // A 32-byte HMAC is 43 characters: its last carries 2 unused bits, which a lenient decoder ignores.
    const strayBits = signature.slice(0, -1) + alphabet[alphabet.indexOf(signature.at(-1)!) | 0b11];
    const spellings = [
      `${owner.token}=`,
      `${header}.${payload}.${strayBits}`,
      `${header}.${payload}=.${signature}`,
      `${header}.${payload}.${signature}.`,
      `${header}.${payload}`,
      `${header}..${signature}`,
      `${header}.${payload}.${signature.replace(/-/g, '+').replace(/_/g, '/')}`,
      `${header}.${payload}.${signature}${'A'.repeat(4000)}`,
      '...',
      'a.b.c',
    ];
    for (const bearer of spellings.filter((s) => s !== owner.token)) {
      expectError(await api('GET', '/v1/auth/whoami', { token: bearer }), 401, 'unauthorized');
    }
    expect((await api('GET', '/v1/auth/whoami', { token: owner.token })).status).toBe(200);
  });
});
