import { type Account, api, signup } from './support/client';
import { ISO_MS, createJob, createJobOk, expectError, expectValidation, memberOf } from './support/fixtures';

// Workflow definitions and the context store over HTTP (docs/jobs.md, docs/workflows.md). Running workflows is the
// engine's part and is specified elsewhere: nothing here waits for a workflow to execute.
jest.setTimeout(60_000);

const STEPS = [
  { id: 'create-order', type: 'http', url: 'https://example.com/orders?item={{context.item_id}}', method: 'POST', body: { id: '{{trigger.body.order.id}}', at: '{{timestamp}}' }, extract: { order_id: '$.order.id' } },
  { id: 'review', type: 'approval', message: 'Ship order {{context.order_id}}?', extract_to_context: { last_decision: '$.decision' } },
  { id: 'shipped', type: 'wait_for_webhook', timeout_seconds: 3600 },
];

const workflow = (fields: Record<string, unknown> = {}) => ({ name: 'order flow', kind: 'workflow', steps: STEPS, schedule: { cron: '0 9 * * *', timezone: 'Europe/Berlin' }, ...fields });
const listed = async (account: Account) => (await api('GET', '/v1/jobs', { token: account.token })).body.data as any[];

describe('workflow jobs (docs/jobs.md, docs/workflows.md)', () => {
  it('creates a three-step workflow with the documented defaults filled in', async () => {
    const account = await signup('wfcreate');
    const res = await createJob(account, workflow());
    expect(res.status).toBe(201);
    const job = res.body;
    expect(job).toMatchObject({
      id: expect.stringMatching(/^job_/),
      name: 'order flow',
      kind: 'workflow',
      state: 'active',
      schedule: { cron: '0 9 * * *', timezone: 'Europe/Berlin' },
      retry_policy: { max_attempts: 3, retry_on_statuses: [429, 500, 502, 503, 504] },
      max_concurrent_executions: 1,
      max_workflow_duration_seconds: 1800,
      on_success_url: null,
      on_failure_url: null,
      last_run_at: null,
    });
    expect(job.steps).toEqual([
      {
        id: 'create-order',
        type: 'http',
        url: 'https://example.com/orders?item={{context.item_id}}',
        method: 'POST',
        headers: {},
        body: { id: '{{trigger.body.order.id}}', at: '{{timestamp}}' },
        timeout_seconds: 30,
        success_statuses: [200, 201, 202, 204],
        retry_policy: { max_attempts: 3, retry_on_statuses: [429, 500, 502, 503, 504] },
        extract: { order_id: '$.order.id' },
      },
      { id: 'review', type: 'approval', message: 'Ship order {{context.order_id}}?', timeout_seconds: null, on_timeout: 'reject', extract_to_context: { last_decision: '$.decision' } },
      { id: 'shipped', type: 'wait_for_webhook', timeout_seconds: 3600, on_timeout: 'fail' },
    ]);
    // A job has request or steps, by kind.
    expect(job).not.toHaveProperty('request');
    expect(job.next_run_at).toMatch(ISO_MS);
    expect(Date.parse(job.next_run_at)).toBeGreaterThan(Date.now());

    expect((await api('GET', `/v1/jobs/${job.id}`, { token: account.token })).body).toEqual(job);
    const onlyWorkflows = await api('GET', '/v1/jobs?kind=workflow', { token: account.token });
    expect(onlyWorkflows.body.data).toEqual([job]);
  });

  it('accepts every schedule shape, and no schedule at all (run-now only)', async () => {
    const account = await signup('wfsched');
    const every = await createJobOk(account, workflow({ schedule: { every_n_minutes: 15 } }));
    expect(every.schedule).toEqual({ every_n_minutes: 15 });
    expect(every.next_run_at).toMatch(ISO_MS);
    const runAt = new Date(Date.now() + 3_600_000).toISOString();
    const once = await createJobOk(account, workflow({ schedule: { run_at: runAt } }));
    expect(once).toMatchObject({ schedule: { run_at: runAt }, next_run_at: runAt });

    const manual = await createJobOk(account, workflow({ schedule: undefined, max_concurrent_executions: 0, max_workflow_duration_seconds: 7200 }));
    expect(manual).toMatchObject({ schedule: null, next_run_at: null, max_concurrent_executions: 0, max_workflow_duration_seconds: 7200 });
    const run = await api('POST', `/v1/jobs/${manual.id}/run-now`, { token: account.token });
    expect(run.status).toBe(202);
    expect(run.body).toMatchObject({ id: expect.stringMatching(/^exec_/), job_id: manual.id, kind: 'workflow', status: 'queued', trigger: 'manual' });
  });

  it('accepts a response_output_template that reads context, trigger and the last step output', async () => {
    const account = await signup('wfoutput');
    const template = { order: '{{context.order_id}}', source: '{{trigger.headers.x-source}}', status: '$.status' };
    expect((await createJobOk(account, workflow({ response_output_template: template }))).response_output_template).toEqual(template);
  });

  it('answers every bad definition with a 400 naming the step and field, and stores nothing', async () => {
    const account = await signup('wfbad');
    const [http, approval, wait] = STEPS as Array<Record<string, unknown>>;
    const withStep = (index: number, step: Record<string, unknown>) => workflow({ steps: STEPS.map((s, i) => (i === index ? step : s)) });
    const cases: Array<[Record<string, unknown>, string, RegExp?]> = [
      [withStep(1, { ...approval, type: 'sleep' }), 'steps[1].type', /"sleep" is not a step type.*\(step "review"\)/],
      [withStep(2, { ...wait, id: 'review' }), 'steps[2].id', /duplicates steps\[1\]\.id/],
      [withStep(0, { ...http, id: 'Bad Id' }), 'steps[0].id'],
      [withStep(0, { ...http, id: undefined }), 'steps[0].id'],
      [withStep(0, { ...http, url: undefined }), 'steps[0].url', /is required \(step "create-order"\)/],
      [withStep(0, { ...http, headers: { 'X-Token': '{{env.TOKEN}}' } }), 'steps[0].headers.X-Token', /unknown template variable "env\.TOKEN"/],
      [withStep(0, { ...http, method: 'GET' }), 'steps[0].body'],
      [withStep(0, { ...http, retry_policy: { max_attempts: 11 } }), 'steps[0].retry_policy.max_attempts'],
      [withStep(0, { ...http, extract: { order_id: '$..id' } }), 'steps[0].extract.order_id', /not a valid JSONPath/],
      [withStep(0, { ...http, extract: { 'order-id': '$.id' } }), 'steps[0].extract.order-id'],
      [withStep(0, { ...http, message: 'hi' }), 'steps[0].message', /is not a field of http steps/],
      [withStep(1, { ...approval, message: undefined }), 'steps[1].message'],
      [withStep(1, { ...approval, message: 'Hi {{user.name}}' }), 'steps[1].message', /unknown template variable "user\.name"/],
      [withStep(1, { ...approval, on_timeout: 'continue' }), 'steps[1].on_timeout'],
      [withStep(2, { ...wait, timeout_seconds: 7201 }), 'steps[2].timeout_seconds'],
      [withStep(2, { ...wait, on_timeout: 'reject' }), 'steps[2].on_timeout'],
      [withStep(2, { ...wait, extract_to_context: { n: 5 } }), 'steps[2].extract_to_context.n'],
      [workflow({ steps: [] }), 'steps'],
      [workflow({ steps: undefined }), 'steps'],
      [workflow({ steps: Array.from({ length: 51 }, (_, i) => ({ id: `s${i}`, type: 'wait_for_webhook' })) }), 'steps'],
      [workflow({ request: { url: 'https://example.com' } }), 'request'],
      [workflow({ max_workflow_duration_seconds: 7201 }), 'max_workflow_duration_seconds'],
      [workflow({ max_workflow_duration_seconds: 0 }), 'max_workflow_duration_seconds'],
      [workflow({ schedule: { cron: '0 9 * * *', every_n_minutes: 5 } }), 'schedule'],
      [workflow({ schedule: { run_at: '2020-01-01T00:00:00Z' } }), 'schedule.run_at'],
      [workflow({ response_output_template: { a: '{{secret}}' } }), 'response_output_template.a'],
      [{ kind: 'one_time', request: { url: 'https://example.com' }, steps: STEPS }, 'steps'],
      [{ kind: 'one_time', request: { url: 'https://example.com' }, max_workflow_duration_seconds: 60 }, 'max_workflow_duration_seconds'],
    ];
    for (const [body, field, message] of cases) {
      const error = expectValidation(await createJob(account, body), field);
      if (message) expect(error.details.fields.find((f: { field: string }) => f.field === field).message).toMatch(message);
    }
    // webhook_trigger lands later.
    const error = expectValidation(await createJob(account, { name: 'hook', kind: 'webhook_trigger', steps: STEPS }), 'kind');
    expect(error.message).toMatch(/not available in this version yet/);
    expect(await listed(account)).toEqual([]);
  });

  it('replaces steps with PATCH, re-validating them, and keeps them otherwise', async () => {
    const account = await signup('wfpatch');
    const job = await createJobOk(account, workflow());
    const patched = await api('PATCH', `/v1/jobs/${job.id}`, {
      token: account.token,
      body: { steps: [{ id: 'only', type: 'approval', message: 'go?', on_timeout: 'approve', timeout_seconds: 60 }], max_concurrent_executions: 3 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      steps: [{ id: 'only', type: 'approval', message: 'go?', on_timeout: 'approve', timeout_seconds: 60 }],
      max_concurrent_executions: 3,
      max_workflow_duration_seconds: 1800,
      schedule: job.schedule,
    });

    const renamed = await api('PATCH', `/v1/jobs/${job.id}`, { token: account.token, body: { name: 'renamed', max_workflow_duration_seconds: 60 } });
    expect(renamed.body).toMatchObject({ name: 'renamed', steps: patched.body.steps, max_workflow_duration_seconds: 60 });

    expectValidation(await api('PATCH', `/v1/jobs/${job.id}`, { token: account.token, body: { steps: [{ id: 'x', type: 'http' }] } }), 'steps[0].url');
    expectValidation(await api('PATCH', `/v1/jobs/${job.id}`, { token: account.token, body: { steps: [] } }), 'steps');
    expectValidation(await api('PATCH', `/v1/jobs/${job.id}`, { token: account.token, body: { request: { url: 'https://example.com' } } }), 'request');
    expect((await api('GET', `/v1/jobs/${job.id}`, { token: account.token })).body).toMatchObject({ name: 'renamed', steps: patched.body.steps });

    // Dropping the schedule leaves a run-now-only workflow.
    const unscheduled = await api('PATCH', `/v1/jobs/${job.id}`, { token: account.token, body: { schedule: null } });
    expect(unscheduled.body).toMatchObject({ schedule: null, next_run_at: null });
    const rescheduled = await api('PATCH', `/v1/jobs/${job.id}`, { token: account.token, body: { schedule: { every_n_minutes: 30 } } });
    expect(rescheduled.body.next_run_at).toMatch(ISO_MS);
  });
});

describe('the context store (docs/workflows.md)', () => {
  it('reads, sets and deletes keys; members read, other workspaces see nothing', async () => {
    const owner = await signup('ctxowner');
    const job = await createJobOk(owner, workflow());
    const path = `/v1/jobs/${job.id}/context`;
    expect((await api('GET', path, { token: owner.token })).body).toEqual({ context: {}, updated_at: null });

    const set = await api('PATCH', path, { token: owner.token, body: { cursor: 'c-1', region: 'eu', payload: '{"a":1}' } });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ context: { cursor: 'c-1', region: 'eu', payload: '{"a":1}' }, updated_at: expect.stringMatching(ISO_MS) });

    const deleted = await api('PATCH', path, { token: owner.token, body: { region: null, cursor: 'c-2', never_set: null } });
    expect(deleted.body.context).toEqual({ cursor: 'c-2', payload: '{"a":1}' });
    expect(Date.parse(deleted.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(set.body.updated_at));
    expect((await api('GET', path, { token: owner.token })).body).toEqual(deleted.body);

    const member = await memberOf(owner, 'member');
    expect((await api('GET', path, { token: member.token })).body).toEqual(deleted.body);
    expectError(await api('PATCH', path, { token: member.token, body: { cursor: 'mine' } }), 403, 'forbidden');
    const admin = await memberOf(owner, 'admin');
    expect((await api('PATCH', path, { token: admin.token, body: { by_admin: 'yes' } })).body.context).toMatchObject({ by_admin: 'yes' });

    const stranger = await signup('ctxstranger');
    expectError(await api('GET', path, { token: stranger.token }), 404, 'not_found');
    expectError(await api('PATCH', path, { token: stranger.token, body: { cursor: 'theirs' } }), 404, 'not_found');
    expectError(await api('GET', '/v1/jobs/job_nope/context', { token: owner.token }), 404, 'not_found');
    expectError(await api('GET', path), 401, 'unauthorized');

    expect((await api('GET', path, { token: owner.token })).body.context).toEqual({ cursor: 'c-2', payload: '{"a":1}', by_admin: 'yes' });
  });

  it('answers values that are not strings or null, and oversized patches, with a 400 naming the key', async () => {
    const account = await signup('ctxbad');
    const job = await createJobOk(account, workflow());
    const path = `/v1/jobs/${job.id}/context`;
    await api('PATCH', path, { token: account.token, body: { keep: 'me' } });
    const longKey = 'k'.repeat(129);
    const cases: Array<[unknown, string]> = [
      [{ count: 3 }, 'count'],
      [{ flag: true }, 'flag'],
      [{ nested: { a: 'b' } }, 'nested'],
      [{ list: ['a'] }, 'list'],
      [{ ok: 'fine', bad: 1 }, 'bad'],
      [{ [longKey]: 'v' }, `${'k'.repeat(128)}…`],
      [{ big: 'x'.repeat(64 * 1024 + 1) }, 'big'],
      [Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, 'v'])), 'body'],
      [['a', 'b'], 'body'],
      ['just text', 'body'],
    ];
    for (const [body, field] of cases) expectValidation(await api('PATCH', path, { token: account.token, body }), field);
    expectValidation(await api('PATCH', path, { token: account.token, rawBody: 'null', headers: { 'content-type': 'application/json' } }), 'body');
    expectError(await api('PATCH', path, { token: account.token, rawBody: '{"a":', headers: { 'content-type': 'application/json' } }), 400, 'validation_failed');
    // Nothing of a refused patch is stored, not even its good keys.
    expect((await api('GET', path, { token: account.token })).body.context).toEqual({ keep: 'me' });
    // The limits themselves are fine.
    const edge = await api('PATCH', path, { token: account.token, body: { ['k'.repeat(128)]: 'x'.repeat(64 * 1024) } });
    expect(edge.status).toBe(200);
  });

  it('is only writable for step-driven jobs', async () => {
    const account = await signup('ctxrequest');
    const job = await createJobOk(account, { kind: 'cron', schedule: { cron: '0 0 * * *' }, request: { url: 'https://example.com' } });
    expect((await api('GET', `/v1/jobs/${job.id}/context`, { token: account.token })).body).toEqual({ context: {}, updated_at: null });
    expectError(await api('PATCH', `/v1/jobs/${job.id}/context`, { token: account.token, body: { a: 'b' } }), 409, 'conflict');
  });
});

describe('/openapi.json documents workflows', () => {
  it('describes the step types as a discriminated union and the context endpoints', async () => {
    const res = await api('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const { schemas } = res.body.components;
    const steps = schemas.CreateJobDto.properties.steps;
    expect(steps.type).toBe('array');
    expect(steps.items.oneOf).toEqual([
      { $ref: '#/components/schemas/HttpStepDto' },
      { $ref: '#/components/schemas/WaitForWebhookStepDto' },
      { $ref: '#/components/schemas/ApprovalStepDto' },
    ]);
    expect(steps.items.discriminator.propertyName).toBe('type');
    expect(schemas.HttpStepDto.required).toEqual(expect.arrayContaining(['id', 'type', 'url']));
    expect(schemas.ApprovalStepDto.required).toEqual(expect.arrayContaining(['id', 'type', 'message']));
    expect(schemas.WaitForWebhookStepDto.properties.on_timeout.enum).toEqual(['fail', 'continue']);
    expect(Object.keys(res.body.paths['/v1/jobs/{id}/context']).sort()).toEqual(['get', 'patch']);
  });

  it('describes the public resume and approval endpoints served by trigger-ingest, without bearer auth', async () => {
    const { paths } = (await api('GET', '/openapi.json')).body;
    expect(paths['/v1/resume/{token}'].post.security).toEqual([]);
    expect(Object.keys(paths['/v1/resume/{token}'].post.responses).sort()).toEqual(['200', '404', '413']);
    expect(Object.keys(paths['/v1/approvals/{token}'].get.responses['200'].content).sort()).toEqual(['application/json', 'text/html']);
    for (const action of ['approve', 'reject']) {
      expect(paths[`/v1/approvals/{token}/${action}`].post.responses['409']).toBeDefined();
    }
  });
});
