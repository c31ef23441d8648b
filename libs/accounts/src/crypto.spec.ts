import { createHmac } from 'node:crypto';
import { hashPassword, hashToken, newApiToken, signJwt, verifyJwt, verifyPassword } from './crypto';

const SECRET = 's'.repeat(32);

describe('passwords', () => {
  it('verifies the right password and rejects a wrong one, never storing the plain text', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(stored).not.toContain('correct horse battery');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$/);
    await expect(verifyPassword('correct horse battery', stored)).resolves.toBe(true);
    await expect(verifyPassword('correct horse batterz', stored)).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });
});

describe('jwt', () => {
  it('round-trips claims until expiry', () => {
    const token = signJwt({ sub: 'usr_1', ws: 'ws_1', role: 'owner' }, SECRET, 1000, 60);
    expect(verifyJwt(token, SECRET, 1059)).toMatchObject({ sub: 'usr_1', ws: 'ws_1', role: 'owner', exp: 1060 });
    expect(verifyJwt(token, SECRET, 1060)).toBeNull();
  });

  it('rejects a tampered payload, another key and alg none', () => {
    const token = signJwt({ sub: 'usr_1', ws: 'ws_1', role: 'member' }, SECRET, 1000, 60);
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'usr_1', ws: 'ws_1', role: 'owner', iat: 1000, exp: 9999 })).toString('base64url');
    expect(verifyJwt(`${h}.${forged}.${s}`, SECRET, 1001)).toBeNull();
    expect(verifyJwt(token, 't'.repeat(32), 1001)).toBeNull();
    const none = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const sig = createHmac('sha256', SECRET).update(`${none}.${forged}`).digest('base64url');
    expect(verifyJwt(`${none}.${forged}.${sig}`, SECRET, 1001)).toBeNull();
  });
});

describe('api tokens', () => {
  it('are prefixed, random and hashed deterministically', () => {
    const token = newApiToken();
    expect(token).toMatch(/^cron_pat_[A-Za-z0-9_-]{43}$/);
    expect(hashToken(token)).toBe(hashToken(token));
    expect(hashToken(token)).not.toContain(token.slice(9));
  });
});
