import type { MikroORM } from '@mikro-orm/postgresql';
import type { ExecutionStatus } from '@trigrun/execution-contracts';
import { decodeCursor, encodeCursor } from '@trigrun/util';
import { type ExecutionApi, type WaitingPayloadOf, toApi } from './execution.projection';
import { COLUMNS, type RawExecutionRow, viewOfRow } from './execution.table';

export interface ExecutionFilters {
  readonly status?: ExecutionStatus;
  readonly jobId?: string;
  readonly jobName?: string;
  readonly from?: Date;
  readonly to?: Date;
}

export interface Page<T> {
  readonly data: T[];
  readonly next_cursor: string | null;
}

const SELECT = `select ${COLUMNS.join(', ')} from executions`;

/**
 * Keyset pagination on the time-sortable id, newest first: rows inserted while a client pages
 * sort before its cursor, so pages never shift or repeat. Every query is scoped to a workspace.
 */
export class ExecutionQueries {
  /**
   * `waitingPayloadOf` builds the URLs of a waiting execution's `waiting_payload` from its sealed
   * token (see `waitingPayloadsOpenedWith`); without it they are null.
   */
  constructor(
    private readonly orm: MikroORM,
    private readonly waitingPayloadOf?: WaitingPayloadOf,
  ) {}

  async list(workspaceId: string, filters: ExecutionFilters, limit: number, cursor?: string): Promise<Page<ExecutionApi>> {
    // Withdrawn runs (armed ahead of a slot, taken back when their job changed) never ran: not listed.
    const where = ['workspace_id = ?', `status <> 'withdrawn'`];
    const params: unknown[] = [workspaceId];
    const add = (clause: string, value: unknown) => {
      where.push(clause);
      params.push(value);
    };
    if (filters.status) add('status = ?', filters.status);
    if (filters.jobId) add('job_id = ?', filters.jobId);
    if (filters.jobName) add('job_name = ?', filters.jobName);
    if (filters.from) add('queued_at >= ?', filters.from);
    if (filters.to) add('queued_at < ?', filters.to);
    const after = cursor ? decodeCursor(cursor) : null;
    if (after) add('id < ?', after);
    const rows = await this.orm.em.fork().execute<RawExecutionRow[]>(`${SELECT} where ${where.join(' and ')} order by id desc limit ?`, [...params, limit + 1]);
    const page = rows.slice(0, limit).map(viewOfRow);
    return { data: page.map((view) => toApi(view, this.waitingPayloadOf)), next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1].id) : null };
  }

  async get(workspaceId: string, id: string): Promise<ExecutionApi | null> {
    const [row] = await this.orm.em.fork().execute<RawExecutionRow[]>(`${SELECT} where id = ? and workspace_id = ? and status <> 'withdrawn'`, [id, workspaceId]);
    return row ? toApi(viewOfRow(row), this.waitingPayloadOf) : null;
  }
}

/** An execution the sweeper looks at (docs/recovery.md): not ended, not parked, silent for a while. */
export interface SilentExecution {
  readonly id: string;
  readonly jobId: string;
  readonly workspaceId: string;
  readonly status: 'queued' | 'running';
  readonly updatedAt: Date;
}

/** Where a sweep left off: rows are visited oldest first, a page per tick, then from the start again. */
export interface SilentCursor {
  readonly updatedAt: Date;
  readonly id: string;
}

/**
 * Queued and running executions whose row has not moved since `before`, oldest first after
 * `cursor`, across workspaces (the sweeper is internal). Not those waiting in line behind their
 * job's max_concurrent_executions (a queued row in execution_slots): a slot release starts them.
 * Parked executions are `waiting` and have a timer. What is silent here is only a candidate:
 * the sweeper judges each from its events, so a read model that lags costs a read, not a re-drive.
 */
export async function silentExecutions(orm: MikroORM, before: Date, limit: number, cursor?: SilentCursor): Promise<SilentExecution[]> {
  const params: unknown[] = [before];
  let after = '';
  if (cursor) {
    after = 'and (e.updated_at, e.id) > (?, ?)';
    params.push(cursor.updatedAt, cursor.id);
  }
  const rows = await orm.em.fork().execute<{ id: string; job_id: string; workspace_id: string; status: 'queued' | 'running'; updated_at: Date }[]>(
    `select e.id, e.job_id, e.workspace_id, e.status, e.updated_at from executions e
      where e.status in ('queued', 'running') and e.updated_at < ? ${after}
        and not exists (select 1 from execution_slots s where s.execution_id = e.id and s.state = 'queued')
      order by e.updated_at, e.id limit ?`,
    [...params, limit],
  );
  return rows.map((r) => ({ id: r.id, jobId: r.job_id, workspaceId: r.workspace_id, status: r.status, updatedAt: new Date(r.updated_at) }));
}
