import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ApprovalDecision } from '@trigrun/execution-contracts';
import { type ApprovalView, type DecisionOutcome, type ResumeOutcome, Waitpoints } from '@trigrun/execution-waitpoints';
import { CONFIG, ErrorEnvelopeFilter, createValidationPipe } from '@trigrun/nest';
import { ApprovalsController } from './approvals.controller';
import { MAX_BODY_BYTES, registerBodyParsers } from './body-parsers';
import { ResumeController } from './resume.controller';

/**
 * The HTTP mapping of the public resume and approval endpoints, in process: the real controllers,
 * body parsers, error filter and validation pipe, with a stand-in for Waitpoints (whose own specs
 * cover tokens, the broker and the decider). Nothing listens on a port.
 */
const TOKEN = 'exec_01JQ0000000000000000000000.c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA';
const EXECUTION_ID = 'exec_01JQ0000000000000000000000';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const FORM = 'application/x-www-form-urlencoded';

const view: ApprovalView = {
  executionId: EXECUTION_ID,
  jobId: 'job_01JQ0000000000000000000000',
  jobName: 'Release pipeline',
  stepId: 'ship_it',
  message: 'Deploy build 42 to production?',
  context: { build: '42', note: '<script>alert(1)</script>' },
  startedAt: '2026-03-15T10:00:00.000Z',
  expiresAt: '2026-03-15T12:00:00.000Z',
  state: 'pending',
  decision: null,
};
const alice: ApprovalDecision = { decision: 'approved', comment: 'ship it', decided_by: 'alice', decided_at: '2026-03-15T10:30:00.000Z' };

const waitpoints = {
  resume: jest.fn<Promise<ResumeOutcome>, [string, unknown]>(),
  decide: jest.fn<Promise<DecisionOutcome>, Parameters<Waitpoints['decide']>>(),
  describe: jest.fn<Promise<ApprovalView | null>, [string]>(),
};

@Module({
  controllers: [ResumeController, ApprovalsController],
  providers: [
    { provide: Waitpoints, useValue: waitpoints },
    { provide: CONFIG, useValue: { TRIGRUN_PUBLIC_URL: 'https://trigrun.example/' } },
  ],
})
class PublicEndpointsModule {}

let app: NestFastifyApplication;

beforeAll(async () => {
  // As bootstrapService and main.ts set the app up, minus the connections.
  app = await NestFactory.create<NestFastifyApplication>(PublicEndpointsModule, new FastifyAdapter({ bodyLimit: MAX_BODY_BYTES }), { logger: false });
  app.useGlobalFilters(new ErrorEnvelopeFilter());
  app.useGlobalPipes(createValidationPipe());
  registerBodyParsers(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
});

afterAll(() => app.close());

beforeEach(() => {
  jest.resetAllMocks();
  waitpoints.resume.mockResolvedValue({ kind: 'resumed', executionId: EXECUTION_ID });
  waitpoints.describe.mockResolvedValue(view);
  waitpoints.decide.mockImplementation(async (_token, input) => ({
    kind: 'decided',
    executionId: EXECUTION_ID,
    decision: { decision: input.decision, comment: input.comment ?? null, decided_by: input.decidedBy ?? null, decided_at: '2026-03-15T10:45:00.000Z' },
  }));
});

const post = (url: string, payload?: string | Buffer, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url, payload, headers });
const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  post(url, JSON.stringify(body), { 'content-type': 'application/json', ...headers });
const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

function expectEnvelope(res: { statusCode: number; json: () => any }, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  const { error } = res.json();
  expect(Object.keys(error).sort()).toEqual(['code', 'details', 'message']);
  expect(error).toMatchObject({ code, message: expect.any(String) });
}

function expectPageHeaders(headers: Record<string, unknown>) {
  expect(headers).toMatchObject({
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  });
}

describe('POST /v1/resume/:token', () => {
  it('answers resumed with the execution once the resume is stored', async () => {
    const res = await postJson(`/v1/resume/${TOKEN}`, { order: { id: 'ord_1' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ resumed: true, execution_id: EXECUTION_ID });
    expect(waitpoints.resume).toHaveBeenCalledWith(TOKEN, { order: { id: 'ord_1' } });
  });

  it('answers a token already used with 200 already_completed', async () => {
    waitpoints.resume.mockResolvedValue({ kind: 'already_completed', executionId: EXECUTION_ID });
    const res = await postJson(`/v1/resume/${TOKEN}`, {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ resumed: false, status: 'already_completed' });
  });

  it('answers an unknown or expired token with 404 not_found', async () => {
    waitpoints.resume.mockResolvedValue({ kind: 'not_found' });
    expectEnvelope(await postJson('/v1/resume/nope', {}), 404, 'not_found');
  });

  it.each`
    what                     | contentType                            | payload                   | expected
    ${'a JSON object'}       | ${'application/json'}                  | ${'{"a":1}'}              | ${{ a: 1 }}
    ${'a JSON array'}        | ${'application/json; charset=utf-8'}  | ${'[1,"two"]'}            | ${[1, 'two']}
    ${'a JSON scalar'}       | ${'application/json'}                  | ${'42'}                   | ${42}
    ${'an empty JSON body'}  | ${'application/json'}                  | ${''}                     | ${null}
    ${'a form'}              | ${FORM}                                | ${'a=1&b=x+y&b=z&c=%3C'}  | ${{ a: '1', b: ['x y', 'z'], c: '<' }}
    ${'plain text'}          | ${'text/plain'}                        | ${'hello'}                | ${'hello'}
    ${'any other type'}      | ${'application/xml'}                   | ${'<ok/>'}                | ${'<ok/>'}
  `('takes $what as the payload', async ({ contentType, payload, expected }) => {
    const res = await post(`/v1/resume/${TOKEN}`, payload, { 'content-type': contentType });
    expect(res.statusCode).toBe(200);
    expect(waitpoints.resume).toHaveBeenCalledWith(TOKEN, expected);
  });

  it('takes no body at all as a null payload', async () => {
    const res = await post(`/v1/resume/${TOKEN}`);
    expect(res.statusCode).toBe(200);
    expect(waitpoints.resume).toHaveBeenCalledWith(TOKEN, null);
  });

  it('keeps a form field named __proto__ as data', async () => {
    await post(`/v1/resume/${TOKEN}`, '__proto__=x&constructor=y', { 'content-type': FORM });
    const payload = waitpoints.resume.mock.calls[0][1] as Record<string, unknown>;
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(Object.keys(payload)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it.each`
    what                      | payload
    ${'malformed JSON'}       | ${'{"a":'}
    ${'prototype poisoning'}  | ${'{"__proto__":{"polluted":true}}'}
  `('refuses $what with 400 and resumes nothing', async ({ payload }) => {
    expectEnvelope(await post(`/v1/resume/${TOKEN}`, payload, { 'content-type': 'application/json' }), 400, 'validation_failed');
    expect(waitpoints.resume).not.toHaveBeenCalled();
  });

  it.each(['application/json', FORM, 'text/plain', 'application/octet-stream'])('refuses a %s body over 1 MiB with 413', async (contentType) => {
    const big = contentType === 'application/json' ? JSON.stringify('x'.repeat(MAX_BODY_BYTES)) : `a=${'x'.repeat(MAX_BODY_BYTES)}`;
    expectEnvelope(await post(`/v1/resume/${TOKEN}`, big, { 'content-type': contentType }), 413, 'payload_too_large');
    expect(waitpoints.resume).not.toHaveBeenCalled();
  });

  it.each<[string, string, string, unknown]>([
    ['JSON with NUL and lone surrogates in keys and values', 'application/json', '{"a\\u0000":"x\\u0000\\ud800","b":["\\udc00","\\ud83d\\ude00"]}', { 'a\uFFFD': 'x\uFFFD\uFFFD', b: ['\uFFFD', '\ud83d\ude00'] }],
    ['a form with %00', FORM, 'k%00=v%00&ok=1', { 'k\uFFFD': 'v\uFFFD', ok: '1' }],
    ['text with a NUL', 'text/plain', 'a\u0000b', 'a\uFFFDb'],
    ['JSON 65 levels deep, kept as its text', 'application/json', '['.repeat(65) + ']'.repeat(65), '['.repeat(65) + ']'.repeat(65)],
    ['JSON 20,000 levels deep, kept as its text', 'application/json', '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000), '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)],
    ['JSON 64 levels deep, kept parsed', 'application/json', '['.repeat(64) + ']'.repeat(64), JSON.parse('['.repeat(64) + ']'.repeat(64))],
  ])('hands over %s in its storable form (docs/third-party-data.md)', async (_name, contentType, body, payload) => {
    const res = await post(`/v1/resume/${TOKEN}`, body, { 'content-type': contentType });
    expect(res.statusCode).toBe(200);
    expect(waitpoints.resume).toHaveBeenCalledWith(TOKEN, payload);
  });

  it('answers a payload that cannot be recorded with 413 and the reason', async () => {
    waitpoints.resume.mockResolvedValue({ kind: 'unstorable', reason: 'ExecutionResumed cannot be stored: it is 2000000 bytes as JSON' });
    const res = await postJson(`/v1/resume/${TOKEN}`, { a: 1 });
    expectEnvelope(res, 413, 'payload_too_large');
    expect(res.json().error.details).toEqual({ reason: 'ExecutionResumed cannot be stored: it is 2000000 bytes as JSON' });
  });

  it('accepts a body of exactly 1 MiB', async () => {
    const res = await post(`/v1/resume/${TOKEN}`, 'x'.repeat(MAX_BODY_BYTES), { 'content-type': 'text/plain' });
    expect(res.statusCode).toBe(200);
  });
});

describe('GET /v1/approvals/:token', () => {
  it.each`
    client              | accept
    ${'a browser'}      | ${BROWSER_ACCEPT}
    ${'no Accept'}      | ${undefined}
    ${'*/*'}            | ${'*/*'}
  `('serves $client the review page with strict headers', async ({ accept }) => {
    const res = await get(`/v1/approvals/${TOKEN}`, accept ? { accept } : {});
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expectPageHeaders(res.headers);
    expect(res.body).toContain('Deploy build 42 to production?');
    expect(res.body).toContain(`formaction="https://trigrun.example/v1/approvals/${TOKEN}/approve"`);
    expect(res.body).toContain(`formaction="https://trigrun.example/v1/approvals/${TOKEN}/reject"`);
    expect(res.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.body).not.toContain('<script');
    expect(waitpoints.describe).toHaveBeenCalledWith(TOKEN);
  });

  it('shows a decided step without the buttons', async () => {
    waitpoints.describe.mockResolvedValue({ ...view, state: 'decided', decision: alice });
    const res = await get(`/v1/approvals/${TOKEN}`, { accept: BROWSER_ACCEPT });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain('<form');
    expect(res.body).toContain('by <strong>alice</strong>');
  });

  it('answers JSON clients with the view in snake_case', async () => {
    waitpoints.describe.mockResolvedValue({ ...view, state: 'decided', decision: alice });
    const res = await get(`/v1/approvals/${TOKEN}`, { accept: 'application/json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({
      execution_id: EXECUTION_ID,
      job_id: 'job_01JQ0000000000000000000000',
      job_name: 'Release pipeline',
      step_id: 'ship_it',
      message: 'Deploy build 42 to production?',
      context: { build: '42', note: '<script>alert(1)</script>' },
      started_at: '2026-03-15T10:00:00.000Z',
      expires_at: '2026-03-15T12:00:00.000Z',
      state: 'decided',
      decision: alice,
    });
  });

  it('answers an unknown token with an HTML 404 page for browsers', async () => {
    waitpoints.describe.mockResolvedValue(null);
    const res = await get('/v1/approvals/nope', { accept: BROWSER_ACCEPT });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expectPageHeaders(res.headers);
    expect(res.body).toContain('unknown or has expired');
  });

  it('answers an unknown token with the 404 envelope for JSON clients', async () => {
    waitpoints.describe.mockResolvedValue(null);
    expectEnvelope(await get('/v1/approvals/nope', { accept: 'application/json' }), 404, 'not_found');
  });

  it('never decides anything, whatever is prefetched', async () => {
    for (const url of [`/v1/approvals/${TOKEN}`, `/v1/approvals/${TOKEN}?decision=approve`]) {
      await get(url, { accept: BROWSER_ACCEPT });
      await app.inject({ method: 'HEAD', url });
    }
    expectEnvelope(await get(`/v1/approvals/${TOKEN}/approve`), 404, 'not_found');
    expectEnvelope(await get(`/v1/approvals/${TOKEN}/reject`), 404, 'not_found');
    expect(waitpoints.decide).not.toHaveBeenCalled();
  });
});

describe('POST /v1/approvals/:token/approve and /reject', () => {
  it.each(['approve', 'reject'] as const)('%s: a JSON client gets JSON', async (action) => {
    const decision = action === 'approve' ? 'approved' : 'rejected';
    const res = await postJson(`/v1/approvals/${TOKEN}/${action}`, { comment: ' fine by me ', decided_by: 'alice' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ decided: true, decision, execution_id: EXECUTION_ID });
    expect(waitpoints.decide).toHaveBeenCalledWith(TOKEN, { decision, comment: 'fine by me', decidedBy: 'alice' });
  });

  it('takes an empty body as a decision without comment or name', async () => {
    const res = await post(`/v1/approvals/${TOKEN}/approve`);
    expect(res.statusCode).toBe(200);
    expect(waitpoints.decide).toHaveBeenCalledWith(TOKEN, { decision: 'approved', comment: null, decidedBy: null });
  });

  it('answers the review form post with the HTML result page', async () => {
    const res = await post(`/v1/approvals/${TOKEN}/reject`, 'comment=not+today%0Asorry&decided_by=', { 'content-type': FORM, accept: BROWSER_ACCEPT });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expectPageHeaders(res.headers);
    expect(res.body).toContain('<h1>Rejected</h1>');
    expect(res.body).toContain('<blockquote>not today\nsorry</blockquote>');
    expect(waitpoints.decide).toHaveBeenCalledWith(TOKEN, { decision: 'rejected', comment: 'not today\nsorry', decidedBy: null });
  });

  it('answers a form post without an Accept header with HTML too', async () => {
    const res = await post(`/v1/approvals/${TOKEN}/approve`, 'decided_by=bob', { 'content-type': FORM });
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<h1>Approved</h1>');
  });

  it('answers a client that asks for JSON with JSON even when it posts a form', async () => {
    const res = await post(`/v1/approvals/${TOKEN}/approve`, 'decided_by=bob', { 'content-type': FORM, accept: 'application/json' });
    expect(res.json()).toEqual({ decided: true, decision: 'approved', execution_id: EXECUTION_ID });
  });

  it('answers a second decision with 409 naming the first', async () => {
    waitpoints.decide.mockResolvedValue({ kind: 'conflict', executionId: EXECUTION_ID, first: alice });
    const res = await postJson(`/v1/approvals/${TOKEN}/reject`, { decided_by: 'bob' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      error: {
        code: 'conflict',
        message: 'This step was already approved by alice at 2026-03-15T10:30:00.000Z',
        details: { execution_id: EXECUTION_ID, first_decision: alice },
      },
    });
  });

  it('names an anonymous first decision, or none when it is not known', async () => {
    waitpoints.decide.mockResolvedValue({ kind: 'conflict', executionId: EXECUTION_ID, first: { ...alice, decision: 'rejected', decided_by: null } });
    expect((await post(`/v1/approvals/${TOKEN}/approve`)).json().error.message).toBe('This step was already rejected at 2026-03-15T10:30:00.000Z');
    waitpoints.decide.mockResolvedValue({ kind: 'conflict', executionId: EXECUTION_ID, first: null });
    expectEnvelope(await post(`/v1/approvals/${TOKEN}/approve`), 409, 'conflict');
  });

  it('shows a browser the first decision on a 409 page', async () => {
    waitpoints.decide.mockResolvedValue({ kind: 'conflict', executionId: EXECUTION_ID, first: alice });
    const res = await post(`/v1/approvals/${TOKEN}/reject`, 'comment=', { 'content-type': FORM, accept: BROWSER_ACCEPT });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<h1>Already decided</h1>');
    expect(res.body).toContain('by <strong>alice</strong>');
  });

  it('answers an unknown token with 404: the envelope for JSON, a page for a form', async () => {
    waitpoints.decide.mockResolvedValue({ kind: 'not_found' });
    expectEnvelope(await postJson('/v1/approvals/nope/approve', {}), 404, 'not_found');
    const page = await post('/v1/approvals/nope/approve', 'comment=x', { 'content-type': FORM, accept: BROWSER_ACCEPT });
    expect(page.statusCode).toBe(404);
    expect(page.body).toContain('unknown or has expired');
  });

  it.each`
    what                                  | body                                          | field
    ${'a comment over 2000 characters'}  | ${{ comment: 'x'.repeat(2001) }}              | ${'comment'}
    ${'a name over 200 characters'}      | ${{ decided_by: 'x'.repeat(201) }}            | ${'decided_by'}
    ${'a comment that is not a string'}  | ${{ comment: 5 }}                             | ${'comment'}
    ${'an unknown field'}                | ${{ comment: 'ok', decision: 'approved' }}    | ${'decision'}
    ${'an array'}                        | ${[]}                                         | ${'body'}
  `('refuses $what with 400 and decides nothing', async ({ body, field }) => {
    const res = await postJson(`/v1/approvals/${TOKEN}/approve`, body);
    expectEnvelope(res, 400, 'validation_failed');
    expect(res.json().error.details.fields).toEqual([{ field, message: expect.any(String) }]);
    expect(waitpoints.decide).not.toHaveBeenCalled();
  });

  it('accepts a comment of exactly 2000 characters, counted as characters', async () => {
    const res = await postJson(`/v1/approvals/${TOKEN}/approve`, { comment: '😀'.repeat(2000), decided_by: 'é'.repeat(200) });
    expect(res.statusCode).toBe(200);
  });

  it('shows a browser why a form post was refused', async () => {
    const res = await post(`/v1/approvals/${TOKEN}/approve`, `comment=${'x'.repeat(2001)}&comment=again`, { 'content-type': FORM, accept: BROWSER_ACCEPT });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('comment must be a string');
    expect(waitpoints.decide).not.toHaveBeenCalled();
  });
});
