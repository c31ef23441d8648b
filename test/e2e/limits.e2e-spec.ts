import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the launcher every e2e platform starts from (global-setup.js uses it too), not a project's code
import { type Platform, startPlatform } from '../../tools/harness.cjs';

// Per-project testTimeout is ignored by jest (see accounts.e2e-spec.ts).
jest.setTimeout(60_000);

/**
 * The limits of docs/limits.md, on a platform of this spec's own: the shared e2e platform runs
 * with roomy limits (tools/harness.cjs), this one with the real defaults for login and signup
 * and small explicit limits for the rest (the defaults would take 1,200 requests or 1,000 jobs
 * to reach). The gateway trusts one proxy hop here, so each test plays the ingress and sends
 * its own client address in X-Forwarded-For; the per-address limits see that address.
 */
const SMALL = {
  TRIGRUN_RATE_LIMIT_LOGIN_ACCOUNT: '', // the default, 10/10m
  TRIGRUN_RATE_LIMIT_LOGIN_ADDRESS: '', // the default, 20/1m
  TRIGRUN_RATE_LIMIT_SIGNUP_ADDRESS: '', // the default, 10/1h
  TRIGRUN_RATE_LIMIT_TOKEN: '30/1m',
  TRIGRUN_RATE_LIMIT_RUN_NOW: '5/1m',
  TRIGRUN_QUOTA_JOBS: '3',
  TRIGRUN_TRUSTED_PROXY_HOPS: '1',
};

let platform: Platform;
let nextAddress = 1;
/** A client address no other test uses. */
const newAddress = () => `198.51.100.${nextAddress++}`;

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

async function call(method: string, path: string, opts: { from: string; token?: string; body?: unknown }): Promise<Answer> {
  const headers: Record<string, string> = { 'x-forwarded-for': opts.from };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${platform.baseUrl}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

const password = 'correct horse battery';
async function signup(from: string) {
  const email = `limits-${randomBytes(6).toString('hex')}@example.test`;
  const res = await call('POST', '/v1/auth/signup', { from, body: { name: 'Lim', email, password, workspace_name: 'Limits', timezone: 'UTC' } });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { email, token: res.body.token as string };
}

const count = (answers: Answer[], status: number) => answers.filter((a) => a.status === status).length;

/** The 429 every limit answers with: the envelope, Retry-After and the x-ratelimit-* headers. */
function expectRateLimited(res: Answer, limit: string, max: number, windowSeconds: number) {
  expect(res.status).toBe(429);
  expect(res.body).toEqual({
    error: { code: 'rate_limited', message: expect.stringContaining(limit), details: { limit, max, window_seconds: windowSeconds, retry_after_seconds: expect.any(Number) } },
  });
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(res.body.error.details.retry_after_seconds).toBe(retryAfter);
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(max));
  expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
  expect(res.headers.get('x-ratelimit-reset')).toBe(String(retryAfter));
}

beforeAll(async () => {
  platform = await startPlatform({ label: 'limits', env: SMALL, verbose: !!process.env.TRIGRUN_E2E_VERBOSE });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
}, 60_000);

describe('login limits', () => {
  it('answers 10 of 40 wrong passwords for one account sent at once, each from its own address, and 429 to the other 30', async () => {
    const account = await signup(newAddress());
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => call('POST', '/v1/auth/login', { from: newAddress(), body: { email: account.email, password: 'wrong password' } })),
    );
    expect(count(answers, 401)).toBe(10);
    expect(count(answers, 429)).toBe(30);
    expectRateLimited(answers.find((a) => a.status === 429)!, 'login_per_account', 10, 600);

    // Every attempt counts, so the right password waits for the window too; the spelling of
    // the e-mail does not open a second budget.
    expectRateLimited(await call('POST', '/v1/auth/login', { from: newAddress(), body: { email: ` ${account.email.toUpperCase()} `, password } }), 'login_per_account', 10, 600);
    // Another account is not affected.
    const other = await signup(newAddress());
    const ok = await call('POST', '/v1/auth/login', { from: newAddress(), body: { email: other.email, password } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ratelimit-limit')).toBe('10');
    expect(ok.headers.get('x-ratelimit-remaining')).toBe('9');
  });

  it('answers 20 logins a minute from one address, whatever the accounts, and 429 beyond', async () => {
    const from = newAddress();
    const answers = await Promise.all(
      Array.from({ length: 26 }, (_, i) => call('POST', '/v1/auth/login', { from, body: { email: `nobody-${i}-${randomBytes(4).toString('hex')}@example.test`, password: 'guess' } })),
    );
    expect(count(answers, 401)).toBe(20);
    expect(count(answers, 429)).toBe(6);
    expectRateLimited(answers.find((a) => a.status === 429)!, 'login_per_address', 20, 60);
    // The refused requests never reached the account check, and other addresses still log in.
    const account = await signup(newAddress());
    expect((await call('POST', '/v1/auth/login', { from: newAddress(), body: { email: account.email, password } })).status).toBe(200);
    expect((await call('POST', '/v1/auth/login', { from, body: { email: account.email, password } })).status).toBe(429);
  });

  it('believes only the address the trusted proxy appended, not one the client wrote before it', async () => {
    const from = newAddress();
    const answers: Answer[] = [];
    for (let i = 0; i < 21; i++) {
      // A client rotating a spoofed X-Forwarded-For: the ingress appends the real address.
      answers.push(await call('POST', '/v1/auth/login', { from: `10.${i}.0.1, ${from}`, body: { email: `spoof-${i}@example.test`, password: 'guess' } }));
    }
    expect(answers.slice(0, 20).every((a) => a.status === 401)).toBe(true);
    expect(answers[20].status).toBe(429);
  });
});

describe('signup limit', () => {
  it('takes 10 signups an hour from one address and answers the 11th with a 429 that creates nothing', async () => {
    const from = newAddress();
    for (let i = 0; i < 10; i++) await signup(from);
    const email = `limits-refused-${randomBytes(4).toString('hex')}@example.test`;
    const refused = await call('POST', '/v1/auth/signup', { from, body: { name: 'Lim', email, password, workspace_name: 'Limits', timezone: 'UTC' } });
    expectRateLimited(refused, 'signup_per_address', 10, 3600);
    // Nothing was created: the same e-mail signs up from elsewhere (no 409).
    const elsewhere = await call('POST', '/v1/auth/signup', { from: newAddress(), body: { name: 'Lim', email, password, workspace_name: 'Limits', timezone: 'UTC' } });
    expect(elsewhere.status).toBe(201);
  });
});

describe('per-token limit', () => {
  it('counts every request of one token, shows what is left, and answers 429 past it; another token has its own budget', async () => {
    const { token: jwt } = await signup(newAddress());
    const from = newAddress();
    const created = await call('POST', '/v1/api-tokens', { from, token: jwt, body: { name: 'ci' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-ratelimit-limit')).toBe('30');
    expect(created.headers.get('x-ratelimit-remaining')).toBe('29');
    const apiToken = created.body.token as string;

    const answers: Answer[] = [];
    for (let i = 0; i < 29; i++) answers.push(await call('GET', '/v1/auth/whoami', { from: newAddress(), token: jwt }));
    expect(answers.map((a) => a.status)).toEqual(Array(29).fill(200));
    expect(answers.map((a) => Number(a.headers.get('x-ratelimit-remaining')))).toEqual(Array.from({ length: 29 }, (_, i) => 28 - i));

    // A refused request changes nothing.
    const refused = await call('POST', '/v1/jobs', { from, token: jwt, body: { name: 'refused', kind: 'workflow', state: 'draft', steps: [{ id: 'a', type: 'approval', message: 'ok?' }] } });
    expectRateLimited(refused, 'token', 30, 60);
    expectRateLimited(await call('GET', '/v1/auth/whoami', { from, token: jwt }), 'token', 30, 60);

    const byApiToken = await call('GET', '/v1/jobs', { from, token: apiToken });
    expect(byApiToken.status).toBe(200);
    expect(byApiToken.body.data).toEqual([]);
    expect(byApiToken.headers.get('x-ratelimit-remaining')).toBe('29');
  });

  it('does not count unauthenticated requests against anyone, and a bad token only against itself', async () => {
    const { token } = await signup(newAddress());
    for (let i = 0; i < 3; i++) expect((await call('GET', '/v1/auth/whoami', { from: newAddress(), token: `${token}x` })).status).toBe(401);
    const res = await call('GET', '/v1/auth/whoami', { from: newAddress(), token });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-remaining')).toBe('29');
  });
});

const approvalWorkflow = (name: string) => ({ name, kind: 'workflow', max_concurrent_executions: 0, steps: [{ id: 'review', type: 'approval', message: 'Go?' }] });

describe('run-now per workspace', () => {
  it('queues 5 run-nows a minute per workspace, whichever token asks, and answers the 6th with a 429 that queues nothing', async () => {
    const from = newAddress();
    const { token: jwt } = await signup(newAddress());
    const apiToken = (await call('POST', '/v1/api-tokens', { from, token: jwt, body: { name: 'ci' } })).body.token as string;
    const job = await call('POST', '/v1/jobs', { from, token: jwt, body: approvalWorkflow('five a minute') });
    expect(job.status).toBe(201);

    const answers: Answer[] = [];
    for (let i = 0; i < 6; i++) answers.push(await call('POST', `/v1/jobs/${job.body.id}/run-now`, { from, token: i % 2 ? apiToken : jwt }));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202, 429]);
    expect(answers[4].headers.get('x-ratelimit-limit')).toBe('5');
    expect(answers[4].headers.get('x-ratelimit-remaining')).toBe('0');
    expectRateLimited(answers[5], 'run_now_per_workspace', 5, 60);
    // Exactly five were queued: wait until the read model shows them, and a little longer.
    const listed = async () => (await call('GET', `/v1/jobs/${job.body.id}/executions`, { from, token: apiToken })).body.data.length as number;
    for (const deadline = Date.now() + 10_000; (await listed()) < 5 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 500));
    expect(await listed()).toBe(5);

    // Another workspace is not affected.
    const other = await signup(newAddress());
    const otherJob = await call('POST', '/v1/jobs', { from, token: other.token, body: approvalWorkflow('elsewhere') });
    expect((await call('POST', `/v1/jobs/${otherJob.body.id}/run-now`, { from, token: other.token })).status).toBe(202);
  });
});

describe('jobs quota', () => {
  it('refuses a job beyond the quota with 403 quota_exceeded, counts deleted jobs out, and holds under parallel creates', async () => {
    const from = newAddress();
    const { token } = await signup(newAddress());
    const create = (name: string) => call('POST', '/v1/jobs', { from, token, body: { ...approvalWorkflow(name), state: 'draft' } });
    const first = await create('one');
    expect(first.status).toBe(201);
    expect((await create('two')).status).toBe(201);

    // One place left, twenty creates at once: one gets it.
    const racing = await Promise.all(Array.from({ length: 20 }, (_, i) => create(`racer ${i}`)));
    expect(count(racing, 201)).toBe(1);
    expect(count(racing, 403)).toBe(19);
    const refused = racing.find((a) => a.status === 403)!;
    expect(refused.body).toEqual({
      error: { code: 'quota_exceeded', message: expect.stringContaining('quota of 3 jobs'), details: { quota: 'jobs', limit: 3, current: expect.any(Number) } },
    });
    const listed = await call('GET', '/v1/jobs', { from, token });
    expect(listed.body.data).toHaveLength(3);

    expect((await create('four')).status).toBe(403);
    expect((await call('DELETE', `/v1/jobs/${first.body.id}`, { from, token })).status).toBe(204);
    expect((await create('four')).status).toBe(201);
  });
});

describe('the public base URL', () => {
  /** A request with its target exactly as written (fetch would resolve the dot segments first). */
  const raw = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: platform.port, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject).end();
    });

  it.each(['/v1/resume/../../metrics', '/v1/resume/%2e%2e/%2e%2e/metrics', '/v1/approvals/%2E%2E/%2E%2E/readyz', '/v1/resume/..%2f..%2fmetrics', '/v1/ping/..\\..\\metrics', '/v1/triggers/..;/..;/metrics'])(
    'never leads to trigger-ingest’s internal pages: %s',
    async (path) => {
      const res = await raw(path);
      expect(res.status).toBe(404);
      expect(res.body).not.toMatch(/process_resident_memory_bytes|"checks"/);
      expect(JSON.parse(res.body).error.code).toBe('not_found');
    },
  );
});
