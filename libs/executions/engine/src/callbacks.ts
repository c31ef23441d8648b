import type { ExecutionEvent, JobSnapshot } from '@trigrun/execution-contracts';
import { backoffMs, shouldRetry } from '@trigrun/execution-domain';
import type { GuardedHttpClient } from '@trigrun/http-client';
import { type Disposition, ack, nakAfter } from '@trigrun/messaging';
import { EXECUTION_ID_HEADER, attemptRecordOf } from './attempt';
import type { ExecutionStore } from './execution-store';

const CALLBACK_TIMEOUT_MS = 30_000;

/** The body POSTed to on_success_url / on_failure_url (SPEC §2). */
export function callbackBody(events: readonly ExecutionEvent[]) {
  const queued = events.find((e) => e.type === 'ExecutionQueued');
  const started = events.find((e) => e.type === 'ExecutionStarted');
  const end = events.at(-1);
  if (!queued || !end || (end.type !== 'ExecutionSucceeded' && end.type !== 'ExecutionFailed')) return null;
  const succeeded = end.type === 'ExecutionSucceeded';
  return {
    event: succeeded ? 'execution.succeeded' : 'execution.failed',
    execution: {
      id: end.execution_id,
      job_id: end.job_id,
      status: succeeded ? 'succeeded' : 'failed',
      final_output: succeeded ? (end.data.final_output ?? null) : null,
      error: succeeded ? null : end.data.error,
      started_at: started?.occurred_at ?? null,
      finished_at: end.occurred_at,
    },
  };
}

/**
 * Success and failure callbacks. Runs on terminal events only; each delivery of the terminal
 * event is one callback attempt, retried with the job's retry policy and the request backoff
 * (a nak with delay: durable across restarts). Callbacks go through the guarded client.
 */
export class CallbackSender {
  constructor(
    private readonly deps: {
      store: ExecutionStore;
      http: GuardedHttpClient;
      random: () => number;
      logger: { warn(message: string, meta?: object): void };
    },
  ) {}

  /**
   * Whether each execution seen queued has callbacks: most do not, and their end then needs no
   * read of the stream. Bounded; an execution not in it (a restart, an eviction) is loaded.
   */
  private readonly wantsCallback = new Map<string, boolean>();

  async handle(event: ExecutionEvent, deliveryCount: number, signal?: AbortSignal): Promise<Disposition> {
    if (event.type === 'ExecutionQueued') {
      this.wantsCallback.set(event.execution_id, !!(event.data.job.on_success_url || event.data.job.on_failure_url));
      if (this.wantsCallback.size > 100_000) this.wantsCallback.delete(this.wantsCallback.keys().next().value!);
      return ack();
    }
    if (event.type !== 'ExecutionSucceeded' && event.type !== 'ExecutionFailed') return ack();
    const wanted = this.wantsCallback.get(event.execution_id);
    this.wantsCallback.delete(event.execution_id);
    if (wanted === false) return ack();
    const loaded = await this.deps.store.load(event.execution_id);
    const queued = loaded.events.find((e) => e.type === 'ExecutionQueued');
    const job = queued?.data.job as JobSnapshot | undefined;
    const url = event.type === 'ExecutionSucceeded' ? job?.on_success_url : job?.on_failure_url;
    const body = callbackBody(loaded.events.slice(0, event.position));
    if (!job || !url || !body) return ack();

    const startedAt = new Date();
    const result = await this.deps.http.send({
      url,
      method: 'POST',
      headers: { 'Content-Type': 'application/json', [EXECUTION_ID_HEADER]: event.execution_id },
      body: JSON.stringify(body),
      timeoutMs: CALLBACK_TIMEOUT_MS,
      signal,
    });
    if (signal?.aborted) throw new Error('shutting down: callback handed back');
    const attempt = attemptRecordOf(deliveryCount, startedAt, result, [200, 201, 202, 204]);
    if (attempt.status === 'SUCCESS') return ack();
    if (shouldRetry(attempt, job.retry_policy)) return nakAfter(backoffMs(deliveryCount, this.deps.random()));
    this.deps.logger.warn('callback gave up', {
      execution_id: event.execution_id,
      attempts: deliveryCount,
      status: attempt.status,
      status_code: attempt.statusCode,
      error_class: attempt.errorClass,
    });
    return ack();
  }
}
