import { type CallbackBody, type DeliverCallback, type ExecutionEvent, callbackSubjects } from '@trigrun/execution-contracts';
import { backoffMs, shouldRetry } from '@trigrun/execution-domain';
import type { GuardedHttpClient } from '@trigrun/http-client';
import { type Disposition, ack, nakAfter } from '@trigrun/messaging';
import type { JetStreamClient } from '@nats-io/jetstream';
import { EXECUTION_ID_HEADER, attemptRecordOf } from './attempt';

const CALLBACK_TIMEOUT_MS = 30_000;

/**
 * The body POSTed to on_success_url / on_failure_url (SPEC §2). Built from the events alone, which
 * hold only redacted values of whatever a send yielded (docs/secrets.md): no secret reaches a
 * callback receiver, and nothing here may add a value from anywhere else.
 */
export function callbackBody(events: readonly ExecutionEvent[]): CallbackBody | null {
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

/** The callback an ended execution asks for, or null (not ended, or no URL for its outcome). */
export function callbackFor(events: readonly ExecutionEvent[]): DeliverCallback | null {
  const queued = events[0];
  const body = callbackBody(events);
  if (!queued || queued.type !== 'ExecutionQueued' || !body) return null;
  const job = queued.data.job;
  const url = body.event === 'execution.succeeded' ? job.on_success_url : job.on_failure_url;
  if (!url) return null;
  return {
    type: 'DeliverCallback',
    version: 1,
    execution_id: queued.execution_id,
    job_id: queued.job_id,
    workspace_id: queued.workspace_id,
    url,
    retry_policy: job.retry_policy,
    body,
  };
}

/** Issues the command durably; a repeat (a redelivered terminal event) is dropped by its id. */
export async function requestCallback(js: JetStreamClient, namespace: string, command: DeliverCallback): Promise<void> {
  await js.publish(callbackSubjects(namespace).forExecution(command.execution_id), JSON.stringify(command), {
    msgID: `${command.execution_id}:callback`,
  });
}

/**
 * Carries out DeliverCallback commands through the guarded client. Each delivery of a command
 * is one attempt, retried with the job's retry policy and the request backoff (a nak with a
 * delay: durable across restarts).
 */
export class CallbackSender {
  constructor(
    private readonly deps: {
      http: GuardedHttpClient;
      random: () => number;
      logger: { warn(message: string, meta?: object): void };
    },
  ) {}

  async deliver(command: DeliverCallback, deliveryCount: number, signal?: AbortSignal): Promise<Disposition> {
    const startedAt = new Date();
    const result = await this.deps.http.send({
      url: command.url,
      method: 'POST',
      headers: { 'Content-Type': 'application/json', [EXECUTION_ID_HEADER]: command.execution_id },
      body: JSON.stringify(command.body),
      timeoutMs: CALLBACK_TIMEOUT_MS,
      signal,
    });
    if (signal?.aborted) throw new Error('shutting down: callback handed back');
    const attempt = attemptRecordOf(deliveryCount, startedAt, result, [200, 201, 202, 204]);
    if (attempt.status === 'SUCCESS') return ack();
    if (shouldRetry(attempt, command.retry_policy)) return nakAfter(backoffMs(deliveryCount, this.deps.random()));
    this.deps.logger.warn('callback gave up', {
      execution_id: command.execution_id,
      attempts: deliveryCount,
      status: attempt.status,
      status_code: attempt.statusCode,
      error_class: attempt.errorClass,
    });
    return ack();
  }
}
