import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Client } from 'pg';
import { type Account, api, eventually, signup, waitForExecution } from './support/client';
import { createJobOk, expectValidation } from './support/fixtures';

/**
 * docs/secrets.md, "a secret value never leaves the send", proven at every exit with a target that
 * echoes the secret back in every common spelling: the executions API (list and detail), the job's
 * context store, the approval review page, the success and failure callbacks, every JetStream
 * message of the platform's namespace and every row of its database.
 */

// Characters that each encoder spells differently, and a random part so nothing else can match.
const TOKEN = `e2e_S3cr/t+Q=&<x>"y'z~%!${randomBytes(6).toString('hex')}`;
const uEscaped = (v: string) =>
  v
    .split('')
    .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .join('');
const html = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** The spellings an echo produces; each is also looked for as it appears inside a JSON string. */
const SPELLINGS = [
  TOKEN,
  encodeURIComponent(TOKEN),
  new URLSearchParams({ v: TOKEN }).toString().slice(2),
  Buffer.from(TOKEN).toString('base64').replace(/=+$/, ''),
  Buffer.from(TOKEN).toString('base64url'),
  html(TOKEN),
  uEscaped(TOKEN),
].flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);

function expectNoSecret(where: string, text: string) {
  for (const spelling of SPELLINGS) {
    if (text.includes(spelling)) throw new Error(`${where} contains the secret (as ${JSON.stringify(spelling)}): …${text.slice(Math.max(0, text.indexOf(spelling) - 80), text.indexOf(spelling) + spelling.length + 20)}…`);
  }
}

interface Received {
  url: string;
  body: string;
}

/**
 * An httpbin-like target. `/echo` answers the request's headers and, computed from the bearer token
 * it received, that token raw, percent- and form-encoded, in base64 (alone and as a Basic
 * credential), HTML-escaped and as \u escapes; response headers echo it too. `/big` puts the token
 * across the 64 KiB preview boundary. `/hooks/*` records callbacks.
 */
async function startEcho() {
  const hooks: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      if (url.startsWith('/hooks/')) {
        hooks.push({ url, body: Buffer.concat(chunks).toString() });
        res.writeHead(204).end();
        return;
      }
      const auth = String(req.headers.authorization ?? '');
      const token = auth.replace(/^Bearer /, '');
      const echoHeaders = { 'x-echo-auth': auth, 'x-echo-b64': Buffer.from(token).toString('base64'), 'x-echo-basic': `Basic ${Buffer.from(`ada:${token}`).toString('base64')}` };
      if (url.startsWith('/big')) {
        res.writeHead(200, { 'content-type': 'text/plain', ...echoHeaders });
        res.end('a'.repeat(64 * 1024 - 5) + token + 'z'.repeat(100));
        return;
      }
      const body = [
        `{"headers":${JSON.stringify(req.headers)}`,
        `"url":${JSON.stringify(`${url}?key=${encodeURIComponent(token)}`)}`,
        `"form":${JSON.stringify(new URLSearchParams({ key: token }).toString())}`,
        `"base64":${JSON.stringify(Buffer.from(token).toString('base64'))}`,
        `"base64url":${JSON.stringify(Buffer.from(token).toString('base64url'))}`,
        `"basic":${JSON.stringify(echoHeaders['x-echo-basic'])}`,
        `"html":${JSON.stringify(`<p title="${html(token)}">${html(token)}</p>`)}`,
        `"unicode":"${uEscaped(token)}"`,
        `"${uEscaped(token)}":"the token as a key"}`,
      ].join(',');
      res.writeHead(200, { 'content-type': 'application/json', ...echoHeaders });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, hooks, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The data of every message in every stream of the platform's namespace. */
async function namespaceMessages(namespace: string): Promise<Array<{ stream: string; seq: number; text: string }>> {
  const nc = await connect({ servers: process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222' });
  const out: Array<{ stream: string; seq: number; text: string }> = [];
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    for await (const stream of jsm.streams.list()) {
      const name = stream.config.name;
      if (!name.startsWith(`${namespace.toUpperCase()}_`)) continue;
      const last = (await jsm.streams.info(name)).state.last_seq;
      if (last === 0) continue;
      const consumer = await js.consumers.get(name);
      let seen = 0;
      while (seen < last) {
        const batch = await consumer.fetch({ max_messages: 1000, expires: 2_000 });
        let got = 0;
        for await (const m of batch) {
          got++;
          seen = m.seq;
          out.push({ stream: name, seq: m.seq, text: m.string() });
          if (m.seq >= last) break;
        }
        if (got === 0) break;
      }
    }
  } finally {
    await nc.close();
  }
  return out;
}

/** Every row of every table of the platform's database, as JSON text. */
async function databaseRows(databaseUrl: string): Promise<Array<{ table: string; text: string }>> {
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  try {
    const tables = await pg.query<{ name: string }>(`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`);
    const rows: Array<{ table: string; text: string }> = [];
    for (const { name } of tables.rows) {
      const result = await pg.query<{ text: string }>(`select row_to_json(t)::text as text from "${name}" t`);
      for (const row of result.rows) rows.push({ table: name, text: row.text });
    }
    return rows;
  } finally {
    await pg.end();
  }
}

async function runNow(token: string, jobId: string): Promise<string> {
  const res = await api('POST', `/v1/jobs/${jobId}/run-now`, { token });
  if (res.status !== 202) throw new Error(`run-now failed: ${res.status} ${res.text}`);
  return res.body.id;
}

const firstExecution = (account: Account, jobId: string) =>
  eventually(
    async () => {
      const res = await api('GET', `/v1/jobs/${jobId}/executions`, { token: account.token });
      return res.body?.data?.[0]?.id as string | undefined;
    },
    15_000,
    `the execution of ${jobId}`,
  );

describe('a secret value never leaves the send (docs/secrets.md)', () => {
  it('refuses secret values shorter than 8 characters, or that no header can carry, naming no value', async () => {
    const account = await signup('short-secret');
    for (const value of ['abc', '1234567', 'näive-value', 'line\nbreak-value']) {
      const res = await api('POST', '/v1/secrets', { token: account.token, body: { name: 'SHORT', value } });
      const error = expectValidation(res, 'value');
      expect(error.details.fields).toHaveLength(1);
      expect(res.text).not.toContain(value);
    }
    expect((await api('GET', '/v1/secrets', { token: account.token })).body.data).toEqual([]);
    expect((await api('POST', '/v1/secrets', { token: account.token, body: { name: 'LONG_ENOUGH', value: '12345678' } })).status).toBe(201);
  });

  it('keeps an echoed secret out of every record, read model, context, review page, callback and event', async () => {
    const namespace = process.env.TRIGRUN_E2E_NAMESPACE;
    const databaseUrl = process.env.TRIGRUN_E2E_DATABASE_URL;
    if (!namespace || !databaseUrl) throw new Error('global-setup must export TRIGRUN_E2E_NAMESPACE and TRIGRUN_E2E_DATABASE_URL');
    const echo = await startEcho();
    try {
      const account = await signup('secret-echo');
      expect((await api('POST', '/v1/secrets', { token: account.token, body: { name: 'ECHO_KEY', value: TOKEN } })).status).toBe(201);
      const headers = { Authorization: 'Bearer secret://ECHO_KEY' };

      // A request job whose output template reads the echo, with a success callback.
      const echoed = await createJobOk(account, {
        name: 'echo',
        kind: 'one_time',
        request: { url: `${echo.url}/echo`, headers },
        response_output_template: { auth: '$.headers.authorization', unicode: '$.unicode', basic: '$.basic', everything: '$' },
        on_success_url: `${echo.url}/hooks/success`,
      });
      // The secret across the 64 KiB preview boundary.
      const big = await createJobOk(account, { name: 'big', kind: 'one_time', request: { url: `${echo.url}/big`, headers } });
      // A matcher failure quotes the value it parsed (here the \u-spelled token) into the error of the failure callback.
      const failing = await createJobOk(account, {
        name: 'mismatch',
        kind: 'one_time',
        request: { url: `${echo.url}/echo`, headers, response_matcher: { assertions: [{ source: 'json', path: '$.unicode', op: 'eq', value: 'something else' }] } },
        retry_policy: { max_attempts: 1 },
        on_failure_url: `${echo.url}/hooks/failure`,
      });
      // A workflow: extract and extract_to_context of the echo, an approval whose message and review
      // page show that context, a second echo, and an output template over both.
      const workflow = await createJobOk(account, {
        name: 'echo-workflow',
        kind: 'workflow',
        steps: [
          {
            id: 'first',
            type: 'http',
            url: `${echo.url}/echo`,
            headers,
            extract: { auth: '$.headers.authorization', unicode: '$.unicode' },
            extract_to_context: { stored_auth: '$.headers.authorization', stored_basic: '$.basic', stored_all: '$' },
          },
          { id: 'review', type: 'approval', message: 'Send {{context.auth}} / {{context.unicode}}?' },
          { id: 'second', type: 'http', url: `${echo.url}/echo?again=1`, headers, extract: { again: '$.unicode' } },
        ],
        response_output_template: { last: '$.headers.authorization', unicode: '$.unicode', from_context: '{{context.stored_auth}}', all: '$' },
        on_success_url: `${echo.url}/hooks/workflow`,
      });

      const [echoedId, bigId, failingId] = await Promise.all([firstExecution(account, echoed.id), firstExecution(account, big.id), firstExecution(account, failing.id)]);
      const workflowId = await runNow(account.token, workflow.id);

      const waiting = await waitForExecution(account.token, workflowId, ['waiting'], 30_000);
      expect(waiting.waiting_payload.message).toBe('Send Bearer [redacted] / [redacted]?');
      const review = await fetch(waiting.waiting_payload.review_url);
      expect(review.status).toBe(200);
      const reviewHtml = await review.text();
      expect(reviewHtml).toContain('[redacted]');
      expectNoSecret('the review page (HTML)', reviewHtml);
      expectNoSecret('the review page (JSON)', await (await fetch(waiting.waiting_payload.review_url, { headers: { accept: 'application/json' } })).text());
      const approved = await api('POST', new URL(waiting.waiting_payload.approve_url).pathname, { body: { decided_by: 'alice' } });
      expect(approved.status).toBe(200);

      const done = await Promise.all([echoedId, bigId, failingId, workflowId].map((id) => waitForExecution(account.token, id, ['succeeded', 'failed'], 30_000)));
      const [echoRun, bigRun, failRun, workflowRun] = done;
      expect([echoRun.status, bigRun.status, failRun.status, workflowRun.status]).toEqual(['succeeded', 'succeeded', 'failed', 'succeeded']);

      // The target got the real value; everything recorded of its answer has the marker instead.
      expect(echoRun.final_output).toMatchObject({ auth: 'Bearer [redacted]', unicode: '[redacted]' });
      expect(echoRun.final_output.everything['[redacted]']).toBe('the token as a key');
      expect(echoRun.attempts[0].responseHeaders['x-echo-auth']).toBe('Bearer [redacted]');
      expect(bigRun.attempts[0].bodyPreview.replace(/^a+/, '')).toBe('[reda');
      expect(failRun.error).toMatchObject({ code: 'match_failed' });
      expect(failRun.error.message).toContain('[redacted]');
      expect(workflowRun.final_output).toMatchObject({ last: 'Bearer [redacted]', unicode: '[redacted]', from_context: 'Bearer [redacted]' });
      expect(workflowRun.step_executions[0].extracted).toMatchObject({ auth: 'Bearer [redacted]', unicode: '[redacted]' });

      // The executions API, as any member of the workspace reads it.
      for (const run of done) expectNoSecret(`GET /v1/executions/${run.id}`, (await api('GET', `/v1/executions/${run.id}`, { token: account.token })).text);
      expectNoSecret('GET /v1/executions', (await api('GET', '/v1/executions?limit=200', { token: account.token })).text);
      for (const job of [echoed, big, failing, workflow]) expectNoSecret(`GET /v1/jobs/${job.id}/executions`, (await api('GET', `/v1/jobs/${job.id}/executions`, { token: account.token })).text);

      // The job's context store.
      const context = await eventually(async () => {
        const res = await api('GET', `/v1/jobs/${workflow.id}/context`, { token: account.token });
        return res.body?.context?.stored_all ? res : undefined;
      });
      expect(context.body.context.stored_auth).toBe('Bearer [redacted]');
      expectNoSecret('the context store', context.text);

      // The callbacks, as their receivers got them.
      const hooks = await eventually(async () => (echo.hooks.length >= 3 ? echo.hooks : undefined), 20_000, 'three callbacks');
      expect(hooks.map((h) => h.url).sort()).toEqual(['/hooks/failure', '/hooks/success', '/hooks/workflow']);
      expect(JSON.parse(hooks.find((h) => h.url === '/hooks/success')!.body).execution.final_output.auth).toBe('Bearer [redacted]');
      for (const hook of hooks) expectNoSecret(`the callback to ${hook.url}`, hook.body);

      // Every JetStream message of the platform's namespace (events, callback commands, dead letters).
      const messages = await namespaceMessages(namespace);
      const ours = messages.filter((m) => [echoRun, bigRun, failRun, workflowRun].some((r) => m.text.includes(r.id)));
      expect(ours.length).toBeGreaterThanOrEqual(20);
      expect(ours.some((m) => m.text.includes('"AttemptRecorded"'))).toBe(true);
      for (const m of messages) expectNoSecret(`JetStream ${m.stream} #${m.seq}`, m.text);

      // Every row of the platform's database: read models, jobs, context store, everything.
      const rows = await databaseRows(databaseUrl);
      expect(rows.some((r) => r.table === 'executions' && r.text.includes(workflowRun.id))).toBe(true);
      for (const row of rows) expectNoSecret(`the ${row.table} table`, row.text);
    } finally {
      await echo.close();
    }
  }, 120_000);
});
