import { api, eventually, signup, startTarget, waitForExecution, type Target } from './support/client';
import { createJobOk } from './support/fixtures';

/**
 * Whole workflows over HTTP, the way a client drives them (docs/workflows.md, docs/executions.md): fetch → approval on
 * the review page → write downstream; webhook waits resumed through their URL; extraction into the
 * execution context and the job's store; rejection; concurrency.
 */
async function runNow(token: string, jobId: string): Promise<string> {
  const res = await api('POST', `/v1/jobs/${jobId}/run-now`, { token });
  if (res.status !== 202) throw new Error(`run-now failed: ${res.status} ${res.text}`);
  return res.body.id;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('workflows end to end', () => {
  let target: Target;
  beforeEach(async () => {
    target = await startTarget();
  });
  afterEach(async () => {
    await target.close();
  });

  it('fetches, waits for approval on the review page, then writes downstream', async () => {
    const account = await signup('wf-approval');
    target.respondWith({ status: 200, body: JSON.stringify({ release: { version: '2.4.1', notes: '<b>bold</b> & risky' } }), headers: { 'content-type': 'application/json' } }, { status: 201, body: '{"stored":true}' });
    const job = await createJobOk(account, {
      name: 'release',
      kind: 'workflow',
      steps: [
        { id: 'fetch', type: 'http', url: `${target.url}/release`, extract: { version: '$.release.version', notes: '$.release.notes' }, extract_to_context: { last_version: '$.release.version' } },
        { id: 'review', type: 'approval', message: 'Ship {{context.version}}?', extract: { reviewer: '$.decided_by' } },
        { id: 'write', type: 'http', method: 'POST', url: `${target.url}/deploy/{{context.version}}`, body: { version: '{{context.version}}', by: '{{context.reviewer}}', run: '{{execution_id}}' } },
      ],
    });
    expect(job).toMatchObject({ kind: 'workflow', max_concurrent_executions: 1, max_workflow_duration_seconds: 1800 });

    const id = await runNow(account.token, job.id);
    const waiting = await waitForExecution(account.token, id, ['waiting']);
    expect(waiting).toMatchObject({ status: 'waiting', waiting_reason: 'approval', waiting_payload: { message: 'Ship 2.4.1?' } });
    expect(Date.parse(waiting.waiting_expires_at)).toBeGreaterThan(Date.now());
    const { review_url, approve_url, reject_url } = waiting.waiting_payload;
    expect(approve_url).toBe(`${review_url}/approve`);
    expect(reject_url).toBe(`${review_url}/reject`);
    expect(waiting.step_executions.map((s: any) => [s.step_id, s.status])).toEqual([
      ['fetch', 'succeeded'],
      ['review', 'waiting'],
      ['write', 'pending'],
    ]);
    expect(waiting.step_executions[0].extracted).toEqual({ version: '2.4.1', notes: '<b>bold</b> & risky', last_version: '2.4.1' });
    expect(waiting.step_executions[0].attempts).toHaveLength(1);

    // The review page is real HTML, escapes what the context holds, and a GET decides nothing.
    const page = await fetch(review_url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('Ship 2.4.1?');
    expect(html).toContain('&lt;b&gt;bold&lt;/b&gt; &amp; risky');
    expect(html).not.toContain('<b>bold</b>');
    expect(html).not.toMatch(/<script/i);
    expect((await api('GET', `/v1/executions/${id}`, { token: account.token })).body.status).toBe('waiting');

    // The reviewer approves with the page's form.
    const approved = await fetch(approve_url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form({ comment: 'looks good', decided_by: 'alice' }) });
    expect(approved.status).toBe(200);
    expect(approved.headers.get('content-type')).toMatch(/text\/html/);
    // A second decision is a conflict naming the first.
    const again = await fetch(reject_url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: '{}' });
    expect(again.status).toBe(409);
    const conflict = (await again.json()) as { error: { code: string; message: string } };
    expect(conflict.error.code).toBe('conflict');
    expect(conflict.error.message).toContain('approved');
    expect(conflict.error.message).toContain('alice');

    const done = await waitForExecution(account.token, id);
    expect(done.status).toBe('succeeded');
    expect(done.step_executions.map((s: any) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(done.step_executions[1].output).toMatchObject({ decision: 'approved', comment: 'looks good', decided_by: 'alice' });
    expect(done.waiting_payload).toBeNull();
    expect(done.final_output).toMatchObject({ version: '2.4.1', reviewer: 'alice', last_version: '2.4.1' });

    const write = target.received.find((r) => r.url === '/deploy/2.4.1');
    expect(write).toBeDefined();
    expect(JSON.parse(write!.body)).toEqual({ version: '2.4.1', by: 'alice', run: id });
    expect(write!.headers['idempotency-key']).toBe(`${id}:write`);
    expect(write!.headers['x-cron-service-execution-id']).toBe(id);

    // extract_to_context outlives the run, and seeds the next one.
    const stored = await eventually(async () => {
      const res = await api('GET', `/v1/jobs/${job.id}/context`, { token: account.token });
      return res.body?.context?.last_version ? res.body : undefined;
    });
    expect(stored.context).toEqual({ last_version: '2.4.1' });
    // Dead once its step ended.
    expect((await fetch(review_url, { headers: { accept: 'application/json' } })).status).toBe(200);
    expect((await fetch(approve_url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(409);
  });

  it('rejection fails the execution with approval_rejected and skips the rest', async () => {
    const account = await signup('wf-reject');
    const job = await createJobOk(account, {
      name: 'gate',
      kind: 'workflow',
      steps: [
        { id: 'review', type: 'approval', message: 'Go?' },
        { id: 'never', type: 'http', url: `${target.url}/never` },
      ],
    });
    const id = await runNow(account.token, job.id);
    const waiting = await waitForExecution(account.token, id, ['waiting']);
    const res = await api('POST', new URL(waiting.waiting_payload.reject_url).pathname, { body: { comment: 'no', decided_by: 'bob' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ decided: true, decision: 'rejected', execution_id: id });
    const done = await waitForExecution(account.token, id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'approval_rejected' } });
    expect(done.step_executions.map((s: any) => s.status)).toEqual(['rejected', 'skipped']);
    expect(target.received.some((r) => r.url === '/never')).toBe(false);
  });

  it('waits for a webhook: the resume body flows into context, a second resume says already_completed', async () => {
    const account = await signup('wf-resume');
    const job = await createJobOk(account, {
      name: 'callback',
      kind: 'workflow',
      steps: [
        { id: 'wait', type: 'wait_for_webhook', timeout_seconds: 600, extract: { order: '$.order', total: '$.total' } },
        { id: 'notify', type: 'http', method: 'POST', url: `${target.url}/orders/{{context.order.id}}`, body: { total: '{{context.total}}', order: '{{context.order}}' } },
      ],
    });
    const id = await runNow(account.token, job.id);
    const waiting = await waitForExecution(account.token, id, ['waiting']);
    expect(waiting.waiting_reason).toBe('webhook');
    const resumePath = new URL(waiting.waiting_payload.resume_url).pathname;
    expect(resumePath).toMatch(/^\/v1\/resume\/exec_[0-9A-Z]{26}\.[A-Za-z0-9_-]{43}$/);

    const first = await api('POST', resumePath, { body: { order: { id: 'A-9', lines: 3 }, total: 42.5 } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ resumed: true, execution_id: id });
    const second = await api('POST', resumePath, { body: {} });
    expect(second.body).toEqual({ resumed: false, status: 'already_completed' });
    expect((await api('POST', '/v1/resume/exec_00000000000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', { body: {} })).status).toBe(404);

    const done = await waitForExecution(account.token, id);
    expect(done.status).toBe('succeeded');
    const sent = target.received.find((r) => r.url === '/orders/A-9');
    // A JSON string leaf that is exactly one template keeps the value's type.
    expect(JSON.parse(sent!.body)).toEqual({ total: 42.5, order: { id: 'A-9', lines: 3 } });
    expect(done.step_executions[0]).toMatchObject({ status: 'succeeded', input: { order: { id: 'A-9', lines: 3 }, total: 42.5 } });
  });

  it('a missing template variable fails the step with template_error naming it', async () => {
    const account = await signup('wf-template');
    const job = await createJobOk(account, {
      name: 'missing',
      kind: 'workflow',
      steps: [{ id: 'call', type: 'http', url: `${target.url}/x/{{context.nope}}` }],
    });
    const done = await waitForExecution(account.token, await runNow(account.token, job.id));
    expect(done).toMatchObject({ status: 'failed', error: { code: 'template_error' } });
    expect(done.error.message).toContain('context.nope');
    expect(done.step_executions[0]).toMatchObject({ step_id: 'call', status: 'failed', error: { code: 'template_error' } });
    expect(target.received).toHaveLength(0);
  });

  it('keeps a second run queued behind a parked one (max_concurrent_executions 1) and starts it when the first ends', async () => {
    const account = await signup('wf-cap');
    const job = await createJobOk(account, { name: 'serial', kind: 'workflow', steps: [{ id: 'wait', type: 'wait_for_webhook' }] });
    const first = await runNow(account.token, job.id);
    const waiting = await waitForExecution(account.token, first, ['waiting']);
    const second = await runNow(account.token, job.id);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await api('GET', `/v1/executions/${second}`, { token: account.token })).body.status).toBe('queued');

    await api('POST', new URL(waiting.waiting_payload.resume_url).pathname, { body: {} });
    expect((await waitForExecution(account.token, first)).status).toBe('succeeded');
    const next = await waitForExecution(account.token, second, ['waiting']);
    expect(next.status).toBe('waiting');
  });

  it('fails with workflow_timeout past max_workflow_duration_seconds, whatever it waits for', async () => {
    const account = await signup('wf-deadline');
    const job = await createJobOk(account, {
      name: 'short',
      kind: 'workflow',
      max_workflow_duration_seconds: 2,
      steps: [{ id: 'wait', type: 'wait_for_webhook', on_timeout: 'continue' }],
    });
    const done = await waitForExecution(account.token, await runNow(account.token, job.id), ['succeeded', 'failed'], 20_000);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'workflow_timeout' } });
    expect(done.step_executions[0].status).toBe('timed_out');
  });

  it('runs a workflow on its run_at schedule, then completes the job', async () => {
    const account = await signup('wf-run-at');
    const job = await createJobOk(account, {
      name: 'once',
      kind: 'workflow',
      schedule: { run_at: new Date(Date.now() + 2_000).toISOString() },
      steps: [{ id: 'call', type: 'http', url: `${target.url}/once` }],
    });
    const done = await eventually(async () => {
      const res = await api('GET', `/v1/jobs/${job.id}`, { token: account.token });
      return res.body.state === 'completed' ? res.body : undefined;
    }, 20_000, 'the job to complete');
    expect(done.next_run_at).toBeNull();
    const runs = (await api('GET', `/v1/jobs/${job.id}/executions`, { token: account.token })).body.data;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: 'schedule', status: 'succeeded' });
    expect(target.received.filter((r) => r.url === '/once')).toHaveLength(1);
  });
});
