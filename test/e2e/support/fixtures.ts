import { type Account, type ApiResponse, type Target, api, eventually, signup, startTarget } from './client';

/** ISO-8601 UTC with milliseconds, as docs/api-conventions.md requires for every timestamp. */
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Asserts the documented error envelope exactly: `{error:{code,message,details}}` and nothing
 * else, with the status that the code implies. Returns the error for further checks.
 */
export function expectError(res: ApiResponse, status: number, code: string) {
  if (res.status !== status) throw new Error(`expected ${status} ${code}, got ${res.status}: ${res.text}`);
  expect(res.headers.get('content-type') ?? '').toMatch(/application\/json/);
  expect(Object.keys(res.body ?? {})).toEqual(['error']);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.message.length).toBeGreaterThan(0);
  const details = res.body.error.details;
  expect(details === null || (typeof details === 'object' && !Array.isArray(details))).toBe(true);
  return res.body.error as { code: string; message: string; details: any };
}

/** A 400 `validation_failed` whose `details.fields` names every given field path. */
export function expectValidation(res: ApiResponse, ...fields: string[]) {
  const error = expectError(res, 400, 'validation_failed');
  expect(Array.isArray(error.details?.fields)).toBe(true);
  const named = (error.details.fields as Array<{ field: string; message: string }>).map((f) => f.field);
  for (const field of fields) expect(named).toContain(field);
  for (const f of error.details.fields) expect(typeof f.message).toBe('string');
  return error;
}

export async function createJob(account: Account, body: Record<string, unknown>) {
  return api('POST', '/v1/jobs', { token: account.token, body: { name: 'job', kind: 'one_time', ...body } });
}

/** Creates a job and fails loudly unless the platform answers 201. */
export async function createJobOk(account: Account, body: Record<string, unknown>) {
  const res = await createJob(account, body);
  if (res.status !== 201) throw new Error(`create job failed: ${res.status} ${res.text}`);
  return res.body;
}

/** The executions of a job, once the read model shows at least `count` of them. */
export async function executionsOf(token: string, jobId: string, count = 1): Promise<any[]> {
  return eventually(
    async () => {
      const res = await api('GET', `/v1/jobs/${jobId}/executions`, { token });
      return res.status === 200 && res.body.data.length >= count ? (res.body.data as any[]) : undefined;
    },
    15_000,
    `${count} execution(s) of ${jobId}`,
  );
}

export async function firstExecutionId(token: string, jobId: string): Promise<string> {
  const list = await executionsOf(token, jobId, 1);
  return list[list.length - 1].id;
}

/** Every page of a list endpoint, following `next_cursor`. */
export async function allPages(token: string, path: string, limit: number): Promise<{ pages: any[][]; items: any[] }> {
  const pages: any[][] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const res: ApiResponse = await api('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    expect(res.status).toBe(200);
    expect(res.body.data.length).toBeLessThanOrEqual(limit);
    pages.push(res.body.data);
    cursor = res.body.next_cursor;
    if (cursor === null) break;
    expect(typeof cursor).toBe('string');
  }
  return { pages, items: pages.flat() };
}

/** Runs `fn` with a fresh local target and closes it afterwards, whatever happens. */
export async function withTarget<T>(fn: (target: Target) => Promise<T>): Promise<T> {
  const target = await startTarget();
  try {
    return await fn(target);
  } finally {
    await target.close();
  }
}

/** Two accounts where `member` also belongs to `owner`'s workspace with `role`, switched into it. */
export async function memberOf(owner: Account, role: 'member' | 'admin', prefix = role) {
  const user = await signup(prefix);
  const added = await api('POST', '/v1/workspace/members', { token: owner.token, body: { email: user.email, role } });
  if (added.status !== 201 && added.status !== 200) throw new Error(`add member failed: ${added.status} ${added.text}`);
  const switched = await api('POST', '/v1/auth/switch-workspace', { token: user.token, body: { workspace_id: owner.workspaceId } });
  if (switched.status !== 200) throw new Error(`switch failed: ${switched.status} ${switched.text}`);
  return { user, added, token: switched.body.token as string };
}

export type { Account, ApiResponse, Target };
