import { randomBytes } from 'node:crypto';
import { api, eventually, signup, waitForExecution } from './support/client';
import { ISO_MS, createJobOk, expectError, expectValidation, firstExecutionId, memberOf, withTarget } from './support/fixtures';

// The e2e project's `testTimeout` in jest.config.js is not applied per project (Jest reads it
// globally), so the default 5 s would cut runs that wait for retries and timeouts.
jest.setTimeout(60_000);

const uniqueEmail = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}@example.test`;
const signupBody = (overrides: Record<string, unknown> = {}) => ({
  name: 'Ada',
  email: uniqueEmail('ada'),
  password: 'correct horse battery',
  workspace_name: 'Engines',
  timezone: 'Europe/London',
  ...overrides,
});

/** The JWT's claims, without verifying it: the client only needs to see what it names. */
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

describe('signup (docs/authentication.md)', () => {
  it('creates an account and its workspace and answers 201 with a token', async () => {
    const body = signupBody();
    const res = await api('POST', '/v1/auth/signup', { body });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      token: expect.any(String),
      workspace: { id: expect.any(String), name: 'Engines' },
      user: { id: expect.any(String), name: 'Ada', email: body.email, trust_level: expect.any(String) },
      email_verification_required: false,
    });
    expect(res.body.workspace.id).not.toBe(res.body.user.id);
    const whoami = await api('GET', '/v1/auth/whoami', { token: res.body.token });
    expect(whoami.status).toBe(200);
  });

  it('refuses a second account with the same email with 409 conflict, whatever its case', async () => {
    const body = signupBody();
    expect((await api('POST', '/v1/auth/signup', { body })).status).toBe(201);
    expectError(await api('POST', '/v1/auth/signup', { body: { ...body, name: 'Other' } }), 409, 'conflict');
    expectError(await api('POST', '/v1/auth/signup', { body: { ...body, email: body.email.toUpperCase() } }), 409, 'conflict');
  });

  it('answers 400 validation_failed naming each bad field, and creates nothing', async () => {
    const email = uniqueEmail('bad');
    const res = await api('POST', '/v1/auth/signup', {
      body: signupBody({ email: 'not-an-email', password: 'short', timezone: 'Mars/Olympus_Mons' }),
    });
    const error = expectValidation(res, 'email', 'password', 'timezone');
    const named = error.details.fields.map((f: { field: string }) => f.field);
    expect(named).not.toContain('name');
    expect(named).not.toContain('workspace_name');

    const one = await api('POST', '/v1/auth/signup', { body: signupBody({ email, timezone: 'Not/AZone' }) });
    expectValidation(one, 'timezone');
    // The refused signup stored nothing: the same email can sign up now.
    expect((await api('POST', '/v1/auth/signup', { body: signupBody({ email }) })).status).toBe(201);
  });

  it('names missing fields', async () => {
    expectValidation(await api('POST', '/v1/auth/signup', { body: {} }), 'name', 'email', 'password', 'workspace_name');
  });
});

describe('login (docs/authentication.md)', () => {
  it('answers with a 7-day JWT naming user, workspace and role, and the workspaces with roles', async () => {
    const account = await signup('login');
    const res = await api('POST', '/v1/auth/login', { body: { email: account.email, password: account.password } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      token: expect.any(String),
      workspace: { id: account.workspaceId, name: expect.any(String) },
      user: { id: account.userId, email: account.email, name: 'login', trust_level: expect.any(String) },
      workspaces: [{ workspace: { id: account.workspaceId, name: expect.any(String) }, role: 'owner' }],
    });
    const claims = claimsOf(res.body.token);
    expect(Object.values(claims)).toEqual(expect.arrayContaining([account.userId, account.workspaceId, 'owner']));
    expect(claims.exp - claims.iat).toBe(7 * 24 * 3600);
    expect((await api('GET', '/v1/auth/whoami', { token: res.body.token })).status).toBe(200);
  });

  it('accepts the email in any case', async () => {
    const account = await signup('case');
    const res = await api('POST', '/v1/auth/login', { body: { email: account.email.toUpperCase(), password: account.password } });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(account.userId);
  });

  it('answers 401 unauthorized for a wrong password or an unknown email, the same way', async () => {
    const account = await signup('wrong');
    const wrong = expectError(await api('POST', '/v1/auth/login', { body: { email: account.email, password: 'not the password' } }), 401, 'unauthorized');
    const unknown = expectError(await api('POST', '/v1/auth/login', { body: { email: uniqueEmail('nobody'), password: 'whatever123' } }), 401, 'unauthorized');
    expect(unknown.message).toBe(wrong.message);
  });

  it('answers 400 for a login without a password', async () => {
    expectValidation(await api('POST', '/v1/auth/login', { body: { email: uniqueEmail('x') } }), 'password');
  });
});

describe('bearer authentication', () => {
  it('answers 401 unauthorized without a token, with a malformed one, and with a tampered JWT', async () => {
    const account = await signup('bearer');
    expectError(await api('GET', '/v1/jobs'), 401, 'unauthorized');
    expectError(await api('GET', '/v1/auth/whoami', { token: 'garbage' }), 401, 'unauthorized');
    expectError(await api('GET', '/v1/jobs', { headers: { authorization: `Basic ${account.token}` } }), 401, 'unauthorized');
    const [header, payload, signature] = account.token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claimsOf(account.token), role: 'owner', ws: 'ws_someone_else' })).toString('base64url');
    expectError(await api('GET', '/v1/jobs', { token: `${header}.${forged}.${signature}` }), 401, 'unauthorized');
    const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA');
    expectError(await api('GET', '/v1/jobs', { token: `${header}.${payload}.${flipped}` }), 401, 'unauthorized');
    expectError(await api('GET', '/v1/jobs', { token: 'cron_pat_notarealtoken' }), 401, 'unauthorized');
    // Writes are refused before any validation runs.
    expectError(await api('POST', '/v1/jobs', { body: { nonsense: true } }), 401, 'unauthorized');
  });
});

describe('whoami and workspaces', () => {
  it('GET /v1/auth/whoami names the user and the current workspace', async () => {
    const account = await signup('who');
    const res = await api('GET', '/v1/auth/whoami', { token: account.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      user: { id: account.userId, email: account.email },
      workspace: { id: account.workspaceId },
    });
  });

  it('GET /v1/workspaces lists the caller’s workspaces as a list envelope', async () => {
    const account = await signup('wss');
    const res = await api('GET', '/v1/workspaces', { token: account.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [expect.objectContaining({ id: account.workspaceId, name: 'wss workspace' })], next_cursor: null });
  });
});

describe('API tokens (docs/authentication.md)', () => {
  it('are shown once, listed without the secret, authenticate, and die at once when revoked', async () => {
    const account = await signup('pat');
    const created = await api('POST', '/v1/api-tokens', { token: account.token, body: { name: 'ci' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual(
      expect.objectContaining({ id: expect.any(String), name: 'ci', role: 'owner', token: expect.stringMatching(/^cron_pat_/), created_at: expect.stringMatching(ISO_MS) }),
    );
    const pat: string = created.body.token;
    expect(pat.length).toBeGreaterThan('cron_pat_'.length + 20);

    const list = await api('GET', '/v1/api-tokens', { token: account.token });
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([expect.objectContaining({ id: created.body.id, name: 'ci', role: 'owner' })]);
    expect(list.body.data[0].token).toBeUndefined();
    expect(list.text).not.toContain(pat);
    expect(list.text).not.toContain(pat.slice('cron_pat_'.length));

    const whoami = await api('GET', '/v1/auth/whoami', { token: pat });
    expect(whoami.status).toBe(200);
    expect(whoami.body).toMatchObject({ user: { id: account.userId }, workspace: { id: account.workspaceId } });
    // An API token writes with its creator's role.
    const jobs = await api('GET', '/v1/jobs', { token: pat });
    expect(jobs.status).toBe(200);
    // Used twice, so any lookup cache is warm before the revocation.
    expect((await api('GET', '/v1/jobs', { token: pat })).status).toBe(200);

    const revoked = await api('DELETE', `/v1/api-tokens/${created.body.id}`, { token: account.token });
    expect(revoked.status).toBe(204);
    expect(revoked.text).toBe('');
    expectError(await api('GET', '/v1/jobs', { token: pat }), 401, 'unauthorized');
    expectError(await api('GET', '/v1/auth/whoami', { token: pat }), 401, 'unauthorized');
    const after = await api('GET', '/v1/api-tokens', { token: account.token });
    expect(after.body.data.map((t: { id: string }) => t.id)).not.toContain(created.body.id);
  });

  it('answers 404 when revoking a token that is unknown or belongs to another workspace', async () => {
    const a = await signup('pat-a');
    const b = await signup('pat-b');
    const created = await api('POST', '/v1/api-tokens', { token: a.token, body: { name: 'mine' } });
    expect(created.status).toBe(201);
    expectError(await api('DELETE', `/v1/api-tokens/${created.body.id}`, { token: b.token }), 404, 'not_found');
    expectError(await api('DELETE', '/v1/api-tokens/tok_doesnotexist', { token: a.token }), 404, 'not_found');
    expect((await api('GET', '/v1/auth/whoami', { token: created.body.token })).status).toBe(200);
    const listB = await api('GET', '/v1/api-tokens', { token: b.token });
    expect(listB.body.data).toEqual([]);
  });

  it('needs a name', async () => {
    const account = await signup('pat-noname');
    expectValidation(await api('POST', '/v1/api-tokens', { token: account.token, body: {} }), 'name');
  });
});

describe('roles (docs/authentication.md)', () => {
  it('a member reads the workspace but every write answers 403 forbidden and changes nothing', async () => {
    await withTarget(async (target) => {
      const owner = await signup('owner');
      const created = await createJobOk(owner, { name: 'owned', request: { url: `${target.url}/owned` } });
      const executionId = await firstExecutionId(owner.token, created.id);
      await waitForExecution(owner.token, executionId);
      // The job as it rests once its run is over, to compare with after the member's attempts.
      const job = await eventually(async () => {
        const r = await api('GET', `/v1/jobs/${created.id}`, { token: owner.token });
        return r.body.state === 'completed' ? r.body : undefined;
      });

      const { user, added, token } = await memberOf(owner, 'member');
      expect(added.status).toBe(201);

      // Logging in shows both workspaces and the role in each.
      const login = await api('POST', '/v1/auth/login', { body: { email: user.email, password: user.password } });
      expect(login.status).toBe(200);
      expect(login.body.workspaces).toEqual(
        expect.arrayContaining([
          { workspace: expect.objectContaining({ id: user.workspaceId }), role: 'owner' },
          { workspace: expect.objectContaining({ id: owner.workspaceId }), role: 'member' },
        ]),
      );
      const workspaces = await api('GET', '/v1/workspaces', { token: login.body.token });
      expect(workspaces.body.data.map((w: { id: string }) => w.id)).toEqual(expect.arrayContaining([user.workspaceId, owner.workspaceId]));

      const switched = await api('POST', '/v1/auth/switch-workspace', { token: login.body.token, body: { workspace_id: owner.workspaceId } });
      expect(switched.status).toBe(200);
      expect(switched.body).toEqual({ token: expect.any(String) });
      const whoami = await api('GET', '/v1/auth/whoami', { token });
      expect(whoami.body).toMatchObject({ user: { id: user.userId }, workspace: { id: owner.workspaceId } });
      expect(Object.values(claimsOf(token))).toEqual(expect.arrayContaining([user.userId, owner.workspaceId, 'member']));

      // Reads work.
      expect((await api('GET', `/v1/jobs/${job.id}`, { token })).status).toBe(200);
      const jobs = await api('GET', '/v1/jobs', { token });
      expect(jobs.body.data.map((j: { id: string }) => j.id)).toEqual([job.id]);
      expect((await api('GET', `/v1/jobs/${job.id}/executions`, { token })).status).toBe(200);
      expect((await api('GET', `/v1/executions/${executionId}`, { token })).status).toBe(200);
      expect((await api('GET', '/v1/executions', { token })).status).toBe(200);

      // Writes do not.
      const request = { url: `${target.url}/member` };
      expectError(await api('POST', '/v1/jobs', { token, body: { name: 'm', kind: 'one_time', request } }), 403, 'forbidden');
      expectError(await api('PATCH', `/v1/jobs/${job.id}`, { token, body: { name: 'renamed' } }), 403, 'forbidden');
      expectError(await api('POST', `/v1/jobs/${job.id}/pause`, { token }), 403, 'forbidden');
      expectError(await api('POST', `/v1/jobs/${job.id}/resume`, { token }), 403, 'forbidden');
      expectError(await api('POST', `/v1/jobs/${job.id}/run-now`, { token }), 403, 'forbidden');
      expectError(await api('DELETE', `/v1/jobs/${job.id}`, { token }), 403, 'forbidden');
      expectError(await api('POST', '/v1/api-tokens', { token, body: { name: 'sneaky' } }), 403, 'forbidden');
      expectError(await api('POST', '/v1/workspace/members', { token, body: { email: user.email, role: 'owner' } }), 403, 'forbidden');

      // Nothing changed: same job, same single execution, one request at the target.
      const after = await api('GET', `/v1/jobs/${job.id}`, { token: owner.token });
      expect(after.status).toBe(200);
      expect(after.body).toEqual(job);
      const executions = await api('GET', `/v1/jobs/${job.id}/executions`, { token: owner.token });
      expect(executions.body.data.map((e: { id: string }) => e.id)).toEqual([executionId]);
      expect((await api('GET', '/v1/jobs', { token: owner.token })).body.data).toHaveLength(1);
      expect((await api('GET', '/v1/api-tokens', { token: owner.token })).body.data).toEqual([]);
      expect(target.received.map((r) => r.url)).toEqual(['/owned']);
    });
  });

  it('an admin manages jobs but cannot create API tokens (owners only)', async () => {
    await withTarget(async (target) => {
      const owner = await signup('owner2');
      const { token } = await memberOf(owner, 'admin');
      const created = await api('POST', '/v1/jobs', { token, body: { name: 'by admin', kind: 'one_time', request: { url: `${target.url}/admin` } } });
      expect(created.status).toBe(201);
      const executionId = await firstExecutionId(token, created.body.id);
      expect((await waitForExecution(token, executionId)).status).toBe('succeeded');
      expectError(await api('POST', '/v1/api-tokens', { token, body: { name: 'nope' } }), 403, 'forbidden');
    });
  });

  it('cannot switch into a workspace one does not belong to', async () => {
    const a = await signup('sw-a');
    const b = await signup('sw-b');
    expectError(await api('POST', '/v1/auth/switch-workspace', { token: b.token, body: { workspace_id: a.workspaceId } }), 404, 'not_found');
    expectValidation(await api('POST', '/v1/auth/switch-workspace', { token: b.token, body: {} }), 'workspace_id');
  });

  it('adding an unknown user, or a member twice, is refused', async () => {
    const owner = await signup('owner3');
    const other = await signup('other3');
    expectError(await api('POST', '/v1/workspace/members', { token: owner.token, body: { email: uniqueEmail('ghost'), role: 'member' } }), 404, 'not_found');
    expect((await api('POST', '/v1/workspace/members', { token: owner.token, body: { email: other.email, role: 'member' } })).status).toBe(201);
    expectError(await api('POST', '/v1/workspace/members', { token: owner.token, body: { email: other.email, role: 'admin' } }), 409, 'conflict');
    expectValidation(await api('POST', '/v1/workspace/members', { token: owner.token, body: { email: other.email, role: 'superuser' } }), 'role');
  });
});

describe('workspace isolation (docs/authentication.md)', () => {
  it("another workspace's job and execution answer 404 not_found and never show in its lists", async () => {
    await withTarget(async (target) => {
      const a = await signup('iso-a');
      const b = await signup('iso-b');
      const job = await createJobOk(a, { name: 'private to A', request: { url: `${target.url}/a` } });
      const executionId = await firstExecutionId(a.token, job.id);
      await waitForExecution(a.token, executionId);
      // The jobs reaction completes the job moments after its run ended (README, "How it fits together").
      await eventually(async () => (await api('GET', `/v1/jobs/${job.id}`, { token: a.token })).body.state === 'completed');
      const bJob = await createJobOk(b, { name: 'B', state: 'draft', request: { url: `${target.url}/b` } });

      const t = b.token;
      expectError(await api('GET', `/v1/jobs/${job.id}`, { token: t }), 404, 'not_found');
      expectError(await api('PATCH', `/v1/jobs/${job.id}`, { token: t, body: { name: 'hijacked' } }), 404, 'not_found');
      expectError(await api('POST', `/v1/jobs/${job.id}/pause`, { token: t }), 404, 'not_found');
      expectError(await api('POST', `/v1/jobs/${job.id}/resume`, { token: t }), 404, 'not_found');
      expectError(await api('POST', `/v1/jobs/${job.id}/run-now`, { token: t }), 404, 'not_found');
      expectError(await api('GET', `/v1/jobs/${job.id}/executions`, { token: t }), 404, 'not_found');
      expectError(await api('GET', `/v1/executions/${executionId}`, { token: t }), 404, 'not_found');
      expectError(await api('DELETE', `/v1/jobs/${job.id}`, { token: t }), 404, 'not_found');

      const bJobs = await api('GET', '/v1/jobs', { token: t });
      expect(bJobs.body.data.map((j: { id: string }) => j.id)).toEqual([bJob.id]);
      const bExecutions = await api('GET', '/v1/executions', { token: t });
      expect(bExecutions.body.data).toEqual([]);
      const filtered = await api('GET', `/v1/executions?job_id=${job.id}`, { token: t });
      expect(filtered.status).toBe(200);
      expect(filtered.body.data).toEqual([]);
      const byName = await api('GET', `/v1/executions?job_name=${encodeURIComponent('private to A')}`, { token: t });
      expect(byName.body.data).toEqual([]);

      // A's job is untouched by all of that.
      const still = await api('GET', `/v1/jobs/${job.id}`, { token: a.token });
      expect(still.status).toBe(200);
      expect(still.body).toMatchObject({ name: 'private to A', state: 'completed' });
      expect((await api('GET', `/v1/jobs/${job.id}/executions`, { token: a.token })).body.data).toHaveLength(1);
      expect(target.received.map((r) => r.url)).toEqual(['/a']);
    });
  });
});

describe('passwords', () => {
  it('never appear in any response', async () => {
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const body = signupBody({ password });
    const texts: string[] = [];
    const record = async (p: Promise<{ text: string; status: number }>) => {
      const res = await p;
      texts.push(res.text);
      return res as any;
    };
    const signedUp = await record(api('POST', '/v1/auth/signup', { body }));
    expect(signedUp.status).toBe(201);
    const token = signedUp.body.token;
    await record(api('POST', '/v1/auth/signup', { body }));
    const login = await record(api('POST', '/v1/auth/login', { body: { email: body.email, password } }));
    expect(login.status).toBe(200);
    await record(api('POST', '/v1/auth/login', { body: { email: body.email, password: `${password}x` } }));
    await record(api('POST', '/v1/auth/signup', { body: { ...body, email: 'bad', password: 'short' } }));
    await record(api('GET', '/v1/auth/whoami', { token }));
    await record(api('GET', '/v1/workspaces', { token }));
    await record(api('GET', '/v1/workspace/members', { token }));
    const other = await signup('pwother');
    await record(api('POST', '/v1/workspace/members', { token: other.token, body: { email: body.email, role: 'member' } }));
    await record(api('GET', '/v1/workspace/members', { token: other.token }));
    await record(api('POST', '/v1/api-tokens', { token, body: { name: 'x' } }));
    await record(api('GET', '/v1/api-tokens', { token }));
    for (const text of texts) {
      expect(text).not.toContain(password);
      expect(text).not.toMatch(/password_?hash|scrypt|argon/i);
    }
  });
});
