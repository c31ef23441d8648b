import type { FilterQuery, MikroORM } from '@mikro-orm/postgresql';
import type { ExecutionStatus } from '@trigrun/execution-contracts';
import { toApi, type ExecutionApi } from './execution.projection';
import { viewOf } from './execution.projector';
import { ExecutionRow } from './execution.row';
import { decodeCursor, encodeCursor } from '@trigrun/util';

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

/**
 * Keyset pagination on the time-sortable id, newest first: rows inserted while a client pages
 * sort before its cursor, so pages never shift or repeat.
 */
export class ExecutionQueries {
  constructor(private readonly orm: MikroORM) {}

  async list(workspaceId: string, filters: ExecutionFilters, limit: number, cursor?: string): Promise<Page<ExecutionApi>> {
    const where: FilterQuery<ExecutionRow> = { workspaceId };
    if (filters.status) where.status = filters.status;
    if (filters.jobId) where.jobId = filters.jobId;
    if (filters.jobName) where.jobName = filters.jobName;
    if (filters.from || filters.to) {
      where.queuedAt = { ...(filters.from ? { $gte: filters.from } : {}), ...(filters.to ? { $lt: filters.to } : {}) };
    }
    const after = cursor ? decodeCursor(cursor) : null;
    if (after) where.id = { $lt: after };
    const rows = await this.orm.em.fork().find(ExecutionRow, where, { orderBy: { id: 'desc' }, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { data: page.map((r) => toApi(viewOf(r))), next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1].id) : null };
  }

  async get(workspaceId: string, id: string): Promise<ExecutionApi | null> {
    const row = await this.orm.em.fork().findOne(ExecutionRow, { id, workspaceId });
    return row ? toApi(viewOf(row)) : null;
  }
}
