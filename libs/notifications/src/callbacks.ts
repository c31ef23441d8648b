import { type DeliverCallback, callbackSubjects } from '@trigrun/execution-contracts';
import { backoffMs, shouldRetry } from '@trigrun/execution-domain';
import type { GuardedHttpClient } from '@trigrun/http-client';
import { type Disposition, ack, nakAfter } from '@trigrun/messaging';
import type { JetStreamClient } from '@nats-io/jetstream';
import { EXECUTION_ID_HEADER, attemptRecordOf } from '@trigrun/execution-engine';

const CALLBACK_TIMEOUT_MS = 30_000;

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
