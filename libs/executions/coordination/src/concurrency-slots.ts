import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';

/** An execution that holds (or was just given) one of its job's slots. */
export interface SlotHolder {
  readonly executionId: string;
  readonly jobId: string;
  readonly workspaceId: string;
}

export interface SlotRequest extends SlotHolder {
  /** The execution's `queued_at`, kept with its place. */
  readonly queuedAt: Date;
  /**
   * The stream sequence of its ExecutionQueued: its place in the job's queue. Unlike `queued_at`
   * (milliseconds, and the clock of whichever process queued it) it orders every execution.
   */
  readonly queueSeq: number;
  /** The job's `max_concurrent_executions`, at least 1 (0 = unlimited never comes here). */
  readonly cap: number;
}

export interface Admission {
  /** Whether the requesting execution holds a slot now and may start. */
  readonly admitted: boolean;
  /** Executions queued ahead of it that this acquire admitted too: the caller starts them. */
  readonly alsoAdmitted: SlotHolder[];
}

/**
 * `max_concurrent_executions` per job (docs/jobs.md): at most `cap` executions of a job are `active`
 * (running or parked: a parked execution keeps its slot); the rest wait `queued` and are admitted
 * in FIFO order of their ExecutionQueued's stream sequence (`queue_seq`; rows from before it was
 * recorded have none and come first). None is dropped.
 *
 * Every change to a job's rows happens in one transaction under
 * `pg_advisory_xact_lock(hashtext(job_id))`, so counting the active rows and admitting the next
 * ones is never interleaved with another acquire or release of the same job. Two jobs whose ids
 * hash alike merely share the lock.
 *
 * Admission is recorded (`admitted_by`) before anyone starts the admitted execution; whoever
 * admitted it returns it, and repeating the call returns it again, so a caller that crashed
 * before starting it is covered by a retry. Starting an execution twice is ignored by the decider.
 */
export class ConcurrencySlots {
  constructor(private readonly orm: MikroORM) {}

  /**
   * Queues the execution (once; a repeat keeps its first place) and admits queued executions in
   * FIFO order, up to and including this one, while fewer than `cap` are active.
   */
  async acquire(e: SlotRequest): Promise<Admission> {
    assertCap(e.cap);
    return this.orm.em.fork().transactional(async (em) => {
      await lockJob(em, e.jobId);
      await em.execute(
        `insert into execution_slots (execution_id, job_id, workspace_id, queued_at, queue_seq, state, updated_at)
         values (?, ?, ?, ?, ?, 'queued', now())
         on conflict (execution_id) do nothing`,
        [e.executionId, e.jobId, e.workspaceId, e.queuedAt, e.queueSeq],
      );
      // Rows behind this one stay queued: their own acquire, or a release, admits them.
      await admitNext(em, { jobId: e.jobId, cap: e.cap, admittedBy: e.executionId, upTo: e.executionId });
      const [self] = await em.execute<{ state: string }[]>('select state from execution_slots where execution_id = ?', [e.executionId]);
      const alsoAdmitted = await admittedBy(em, e.executionId);
      return { admitted: self?.state === 'active', alsoAdmitted: alsoAdmitted.filter((h) => h.executionId !== e.executionId) };
    });
  }

  /**
   * Frees the execution's slot (or its place in the queue) and admits the next queued executions
   * while fewer than `cap` are active. Returns every execution this execution's release admitted,
   * including those of an earlier call whose caller may have crashed before starting them.
   */
  async release(executionId: string, jobId: string, cap: number): Promise<SlotHolder[]> {
    assertCap(cap);
    return this.orm.em.fork().transactional(async (em) => {
      await lockJob(em, jobId);
      await em.execute('delete from execution_slots where execution_id = ?', [executionId]);
      await admitNext(em, { jobId, cap, admittedBy: executionId });
      return admittedBy(em, executionId);
    });
  }
}

function assertCap(cap: number): void {
  if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`a concurrency cap must be a positive integer, got ${cap}`);
}

async function lockJob(em: EntityManager, jobId: string): Promise<void> {
  await em.execute('select pg_advisory_xact_lock(hashtext(?))', [jobId]);
}

/** A row's place in its job's queue: rows without a sequence (from before it was recorded) first. */
const QUEUE_ORDER = 'coalesce(queue_seq, 0), execution_id';

/** Activates the oldest queued rows of the job, as many as the cap has room for. */
async function admitNext(em: EntityManager, a: { jobId: string; cap: number; admittedBy: string; upTo?: string }): Promise<void> {
  const upTo = a.upTo ? `and (${QUEUE_ORDER}) <= (select ${QUEUE_ORDER} from execution_slots where execution_id = ?)` : '';
  await em.execute(
    `update execution_slots s set state = 'active', admitted_by = ?, updated_at = now()
       from (select execution_id from execution_slots
              where job_id = ? and state = 'queued' ${upTo}
              order by ${QUEUE_ORDER}
              limit greatest(0, ? - (select count(*) from execution_slots where job_id = ? and state = 'active'))) n
      where s.execution_id = n.execution_id`,
    [a.admittedBy, a.jobId, ...(a.upTo ? [a.upTo] : []), a.cap, a.jobId],
  );
}

async function admittedBy(em: EntityManager, executionId: string): Promise<SlotHolder[]> {
  const rows = await em.execute<{ execution_id: string; job_id: string; workspace_id: string }[]>(
    `select execution_id, job_id, workspace_id from execution_slots
      where admitted_by = ? and state = 'active'
      order by ${QUEUE_ORDER}`,
    [executionId],
  );
  return rows.map((r) => ({ executionId: r.execution_id, jobId: r.job_id, workspaceId: r.workspace_id }));
}
