import type { HttpStepSpec, JobSnapshot, RequestSpec } from '@trigrun/execution-contracts';
import { decide, isIgnore, requestStepOf } from '@trigrun/execution-domain';
import { given } from '@trigrun/execution-domain/testing';
import type { GuardedHttpClient, OutboundRequest, OutboundResult } from '@trigrun/http-client';
import { REDACTED, secretNamesIn, secretRedactor, substituteSecrets } from '@trigrun/secrets';
import { BODY_PREVIEW_BYTES } from './attempt';
import { performAttempt } from './request-attempt';

// A value with characters that each encoder spells differently.
const SECRET = 'sk_live/9f+Q=a&b<c>"d\'e';
const SPELLINGS = [
  SECRET,
  JSON.stringify(SECRET).slice(1, -1),
  encodeURIComponent(SECRET),
  new URLSearchParams({ v: SECRET }).toString().slice(2),
  Buffer.from(SECRET).toString('base64'),
  Buffer.from(SECRET).toString('base64url'),
  SECRET.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'),
];
const uEscaped = SECRET.split('')
  .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  .join('');

/** Every spelling above, and the secret's first 5 characters (what a cut through it would leave). */
function expectNoSecret(recorded: unknown) {
  const text = JSON.stringify(recorded);
  for (const spelling of SPELLINGS) expect(text).not.toContain(JSON.stringify(spelling).slice(1, -1));
  expect(text).not.toContain(SECRET.slice(0, 5));
}

/** A target that echoes the request's headers, as httpbin does, in the body and in response headers. */
function echoingHttp(respond: (req: OutboundRequest) => Partial<Extract<OutboundResult, { kind: 'response' }>> | OutboundResult) {
  const sent: OutboundRequest[] = [];
  const http = {
    send: async (req: OutboundRequest): Promise<OutboundResult> => {
      sent.push(req);
      const answer = respond(req);
      if ('kind' in answer && answer.kind !== 'response') return answer as OutboundResult;
      return { kind: 'response', status: 200, headers: {}, body: Buffer.from(''), truncated: false, latencyMs: 3, finalUrl: req.url, redirects: 0, ...answer } as OutboundResult;
    },
  } as unknown as GuardedHttpClient;
  return { http, sent };
}

const deps = (http: GuardedHttpClient, values: Record<string, string> = { API_KEY: SECRET }) => ({
  http,
  secrets: { resolve: async (_ws: string, names: string[]) => new Map(names.filter((n) => n in values).map((n) => [n, values[n]])) },
  references: { secretNamesIn, substituteSecrets, secretRedactor },
  now: () => new Date('2026-03-15T10:00:00.000Z'),
});

const request = (over: Partial<RequestSpec> = {}): RequestSpec => ({
  url: 'http://echo.test/anything',
  method: 'GET',
  headers: { Authorization: 'Bearer secret://API_KEY' },
  timeout_seconds: 5,
  success_statuses: [200],
  ...over,
});

const variables = { timestamp: '2026-03-15T10:00:00.000Z', uuid: 'u-1', execution_id: 'exec_1' };

/**
 * One attempt of a request job as the engine makes it: the decider renders the request when the
 * execution starts and the output template when the attempt is recorded, the engine sends it.
 * `output` is what the AttemptRecorded event records.
 */
const attemptOf = async (http: GuardedHttpClient, over: Partial<RequestSpec> = {}, outputTemplate?: unknown) => {
  const job: JobSnapshot = { name: 'echo', kind: 'one_time', request: request(over), retry_policy: { max_attempts: 1, retry_on_statuses: [] }, response_output_template: outputTemplate };
  const { state } = given(
    { type: 'ExecutionQueued', data: { job, trigger: 'manual', scheduled_for: null, replay_of: null, trigger_input: null } },
    { type: 'ExecutionStarted', data: { variables } },
  );
  const result = await performAttempt(deps(http), {
    workspaceId: 'ws_1',
    executionId: 'exec_1',
    step: requestStepOf(job),
    number: 1,
    request: request(over),
    timeoutMs: 5000,
  });
  const decision = decide({ type: 'RecordAttempt', attempt: result.attempt, responseBody: result.responseBody, parsedBody: result.parsedBody, now: variables.timestamp, jitter: 0 }, state);
  if (isIgnore(decision) || decision[0].type !== 'AttemptRecorded') throw new Error('the attempt was not recorded');
  const output = decision[0].data.output ?? null;
  return { attempt: result.attempt, output, recorded: decision };
};

const headerEcho = (req: OutboundRequest) => {
  const auth = req.headers!.Authorization;
  return {
    headers: { 'content-type': 'application/json', 'x-echo': auth, [`x-${Buffer.from(SECRET).toString('hex')}`]: 'name', 'x-b64': Buffer.from(auth).toString('base64') },
    body: Buffer.from(`{"headers":${JSON.stringify({ Authorization: auth })},"url":${JSON.stringify(`${req.url}?key=${encodeURIComponent(SECRET)}`)},"unicode":"${uEscaped}"}`),
  };
};

describe('performAttempt and the decider (request jobs): nothing derived from the response keeps a secret', () => {
  it('sends the secret, and the output template reading the echo renders it redacted (raw and \\u-escaped)', async () => {
    const { http, sent } = echoingHttp(headerEcho);
    const result = await attemptOf(http, {}, { auth: '$.headers.Authorization', unicode: '$.unicode', all: '$', note: 'run {{execution_id}}' });
    expect(sent[0].headers!.Authorization).toBe(`Bearer ${SECRET}`);
    // A request job's request carries the execution id, and no Idempotency-Key (an http step's header).
    expect(sent[0].headers!['X-Cron-Service-Execution-Id']).toBe('exec_1');
    expect(sent[0].headers!['Idempotency-Key']).toBeUndefined();
    expect(result.output).toEqual({
      auth: `Bearer ${REDACTED}`,
      unicode: REDACTED,
      all: { headers: { Authorization: `Bearer ${REDACTED}` }, url: `http://echo.test/anything?key=${REDACTED}`, unicode: REDACTED },
      note: 'run exec_1',
    });
    expect(result.attempt.bodyPreview).toContain(`"Authorization":"Bearer ${REDACTED}"`);
    expect(result.attempt.responseHeaders['x-echo']).toBe(`Bearer ${REDACTED}`);
    expectNoSecret(result);
  });

  it('redacts header names as well as values', async () => {
    const { http } = echoingHttp(headerEcho);
    const { attempt } = await attemptOf(http);
    expect(Object.keys(attempt.responseHeaders)).toContain(`x-${Buffer.from(SECRET).toString('hex')}`); // hex is no spelling
    const named = echoingHttp(() => ({ headers: { [`x-${SECRET}`]: 'v' } }));
    expect(Object.keys((await attemptOf(named.http)).attempt.responseHeaders)).toEqual([`x-${REDACTED}`]);
  });

  it('redacts the whole body before the 64 KiB preview is cut: a secret across the boundary leaves none of its characters', async () => {
    for (const before of [5, 1, SECRET.length - 1]) {
      const body = 'a'.repeat(BODY_PREVIEW_BYTES - before) + SECRET + 'z'.repeat(100);
      const { http } = echoingHttp(() => ({ body: Buffer.from(body) }));
      const { attempt } = await attemptOf(http);
      expect(Buffer.byteLength(attempt.bodyPreview!)).toBeLessThanOrEqual(BODY_PREVIEW_BYTES);
      expect(attempt.bodyPreview!.replace(/^a+/, '')).toBe((REDACTED + 'z'.repeat(100)).slice(0, before));
    }
  });

  it('redacts a matcher failure that quotes a value it parsed from the body', async () => {
    const { http } = echoingHttp(() => ({ body: Buffer.from(`{"token":"${uEscaped}"}`) }));
    const { attempt } = await attemptOf(http, { response_matcher: { assertions: [{ source: 'json', path: '$.token', op: 'eq', value: 'other' }] } });
    expect(attempt.status).toBe('MATCH_FAILED');
    expect(attempt.errorMessage).toContain(REDACTED);
    expectNoSecret(attempt);
  });

  it('redacts the message of a failed send', async () => {
    const { http } = echoingHttp(() => ({ kind: 'connection_error', message: `proxy refused Bearer ${SECRET}`, latencyMs: 1 }));
    const { attempt } = await attemptOf(http);
    expect(attempt.errorMessage).toBe(`proxy refused Bearer ${REDACTED}`);
  });

  it('changes nothing for a send without secrets', async () => {
    const body = Buffer.from([0x61, 0xff, 0x62]);
    const { http } = echoingHttp(() => ({ body, headers: { 'x-a': SECRET } }));
    const { attempt, output } = await attemptOf(http, { headers: { accept: 'text/plain' } }, { all: '$' });
    expect(attempt.bodyPreview).toBe(body.toString('utf8'));
    expect(attempt.responseHeaders).toEqual({ 'x-a': SECRET });
    expect(output).toEqual({ all: null });
  });

  it('lists missing secrets and redacts the ones found', async () => {
    const { http, sent } = echoingHttp(headerEcho);
    const { attempt } = await attemptOf(http, { headers: { Authorization: 'Bearer secret://API_KEY', 'X-Other': 'secret://NOPE' } });
    expect(sent[0].headers!['X-Other']).toBe('secret://NOPE');
    expect(attempt.missingSecrets).toEqual(['NOPE']);
    expectNoSecret(attempt);
  });
});

describe('performAttempt (workflow http steps)', () => {
  const step: HttpStepSpec = {
    type: 'http',
    id: 'echo',
    url: 'http://echo.test/anything',
    method: 'GET',
    headers: { Authorization: 'Bearer secret://API_KEY' },
    timeout_seconds: 5,
    success_statuses: [200],
    retry_policy: { max_attempts: 1, retry_on_statuses: [] },
    extract: { auth: '$.headers.Authorization' },
  };

  it('returns the parsed body redacted after parsing: keys, \\u-escaped strings and plain ones', async () => {
    const { http, sent } = echoingHttp((req) => ({
      body: Buffer.from(`{"headers":{"Authorization":"${req.headers!.Authorization}"},"unicode":"${uEscaped}","${uEscaped}":"as a key"}`),
    }));
    const { attempt, responseBody } = await performAttempt(deps(http), {
      workspaceId: 'ws_1',
      executionId: 'exec_1',
      step,
      number: 1,
      request: { method: 'GET', url: step.url, headers: { ...step.headers } },
      timeoutMs: 5000,
    });
    expect(sent[0].headers!.Authorization).toBe(`Bearer ${SECRET}`);
    expect(sent[0].headers!['Idempotency-Key']).toBe('exec_1:echo');
    expect(responseBody).toEqual({ headers: { Authorization: `Bearer ${REDACTED}` }, unicode: REDACTED, [REDACTED]: 'as a key' });
    expectNoSecret({ attempt, responseBody });
  });
});

describe('a body cut at the client size limit', () => {
  it('loses the beginning of a secret it ends in', async () => {
    const body = 'b'.repeat(1000) + SECRET.slice(0, 7);
    const { http } = echoingHttp(() => ({ body: Buffer.from(body), truncated: true }));
    const { attempt } = await attemptOf(http);
    expect(attempt.bodyPreview).toBe('b'.repeat(1000) + REDACTED);
  });
});
