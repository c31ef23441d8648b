import { randomBytes } from 'node:crypto';
import { createScratchDatabase, type ScratchDatabase } from '@trigrun/database/testing';
import { JobContextStore } from './job-context.store';
import { JOB_ENTITIES } from './index';

/** The context store against the real PostgreSQL: atomic patches, deletes, merges, cascade. */
const ADMIN_URL = process.env.TRIGRUN_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const T0 = new Date('2026-06-01T12:00:00.000Z');

describe('JobContextStore (real PostgreSQL)', () => {
  let db: ScratchDatabase;
  let clock: Date;
  let store: JobContextStore;
  let workspaceId: string;

  beforeAll(async () => {
    db = await createScratchDatabase(ADMIN_URL, JOB_ENTITIES);
  });

  afterAll(async () => {
    await db.dispose();
  });

  beforeEach(async () => {
    clock = T0;
    store = new JobContextStore(db.orm, () => clock);
    workspaceId = `ws_${randomBytes(6).toString('hex')}`;
    await db.sql.query("insert into workspaces (id, name, timezone, created_at) values ($1, 'w', 'UTC', now())", [workspaceId]);
  });

  async function newJob(): Promise<string> {
    const id = `job_${randomBytes(8).toString('hex')}`;
    await db.sql.query(
      `insert into jobs (id, workspace_id, name, kind, state, steps, retry_policy, max_concurrent_executions, created_at, updated_at)
       values ($1, $2, 'wf', 'workflow', 'active', '[]', '{"max_attempts":3,"retry_on_statuses":[]}', 1, now(), now())`,
      [id, workspaceId],
    );
    return id;
  }

  const storedRow = async (jobId: string) => (await db.sql.query('select workspace_id, "values", updated_at from job_contexts where job_id = $1', [jobId])).rows[0];

  it('answers an empty store for a job that never stored anything', async () => {
    const jobId = await newJob();
    expect(await store.get(jobId)).toEqual({ context: {}, updated_at: null });
    expect(await store.seed(jobId)).toEqual({});
    expect(await storedRow(jobId)).toBeUndefined();
  });

  it('sets keys, overwrites them and deletes them with null', async () => {
    const jobId = await newJob();
    expect(await store.patch(jobId, workspaceId, { cursor: 'c-1', region: 'eu' })).toEqual({ context: { cursor: 'c-1', region: 'eu' }, updated_at: '2026-06-01T12:00:00.000Z' });
    clock = new Date(T0.getTime() + 1_000);
    expect(await store.patch(jobId, workspaceId, { cursor: 'c-2', region: null, never_there: null })).toEqual({
      context: { cursor: 'c-2' },
      updated_at: '2026-06-01T12:00:01.000Z',
    });
    expect(await store.get(jobId)).toEqual({ context: { cursor: 'c-2' }, updated_at: '2026-06-01T12:00:01.000Z' });
    expect(await storedRow(jobId)).toEqual({ workspace_id: workspaceId, values: { cursor: 'c-2' }, updated_at: new Date('2026-06-01T12:00:01.000Z') });
  });

  it('stores a first patch made only of deletions as an empty store', async () => {
    const jobId = await newJob();
    expect(await store.patch(jobId, workspaceId, { gone: null })).toEqual({ context: {}, updated_at: T0.toISOString() });
  });

  it('keeps values as exact text: JSON text, quotes, placeholders and unicode', async () => {
    const jobId = await newJob();
    const values = { json: '{"a":[1,2]}', 'it\'s "quoted"': '? $1 ?? :x', emoji: 'é ✓ 🚀', 'with.dot': '', null_text: 'null' };
    expect((await store.patch(jobId, workspaceId, values)).context).toEqual(values);
    expect(await store.seed(jobId)).toEqual(values);
  });

  it('loses no key when many writers patch the same job at once', async () => {
    const jobId = await newJob();
    await store.patch(jobId, workspaceId, { doomed: 'x' });
    await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => store.patch(jobId, workspaceId, { [`api_${i}`]: String(i) })),
      ...Array.from({ length: 40 }, (_, i) => store.merge(jobId, workspaceId, { [`step_${i}`]: String(i) })),
      store.patch(jobId, workspaceId, { doomed: null }),
    ]);
    const { context } = await store.get(jobId);
    expect(Object.keys(context)).toHaveLength(80);
    expect(context).toMatchObject({ api_0: '0', api_39: '39', step_0: '0', step_39: '39' });
    expect(context).not.toHaveProperty('doomed');
  });

  it('merges extracted values idempotently and leaves other keys alone', async () => {
    const jobId = await newJob();
    await store.patch(jobId, workspaceId, { manual: 'm' });
    await store.merge(jobId, workspaceId, { order_id: 'o-1' });
    await store.merge(jobId, workspaceId, { order_id: 'o-1' });
    expect(await store.seed(jobId)).toEqual({ manual: 'm', order_id: 'o-1' });
    await store.merge(jobId, workspaceId, { order_id: 'o-2' });
    expect(await store.seed(jobId)).toEqual({ manual: 'm', order_id: 'o-2' });
  });

  it('writes nothing for an empty merge', async () => {
    const jobId = await newJob();
    await store.merge(jobId, workspaceId, {});
    expect(await storedRow(jobId)).toBeUndefined();
  });

  it('keeps each job to its own store', async () => {
    const [a, b] = [await newJob(), await newJob()];
    await store.patch(a, workspaceId, { k: 'a' });
    await store.patch(b, workspaceId, { k: 'b' });
    expect(await store.seed(a)).toEqual({ k: 'a' });
    expect(await store.seed(b)).toEqual({ k: 'b' });
  });

  it('goes with its job, and refuses a job that does not exist', async () => {
    const jobId = await newJob();
    await store.patch(jobId, workspaceId, { k: 'v' });
    await db.sql.query('delete from jobs where id = $1', [jobId]);
    expect(await storedRow(jobId)).toBeUndefined();
    await expect(store.patch('job_missing', workspaceId, { k: 'v' })).rejects.toThrow(/foreign_key_violation/);
  });
});
