/**
 * The one subject scheme (docs/events.md):
 *   <namespace>.evt.execution.<execution_id>   every event of one execution, in order
 * The event type travels in the envelope (and the Trigrun-Event-Type header), not in the subject:
 * optimistic concurrency uses the expected last *subject* sequence, so all events of one execution
 * must share one subject (NATS 2.9 cannot check a wildcard).
 */
export const executionSubjects = (namespace: string) => ({
  stream: `${namespace.toUpperCase()}_EXECUTIONS`,
  all: `${namespace}.evt.execution.*`,
  forExecution: (executionId: string) => `${namespace}.evt.execution.${executionId}`,
});

/** Messages a consumer gave up on (poison), kept 30 days for inspection: <namespace>.dlq.<durable>. */
export const deadLetterSubjects = (namespace: string) => ({
  stream: `${namespace.toUpperCase()}_DEAD_LETTERS`,
  all: `${namespace}.dlq.*`,
  forConsumer: (durable: string) => `${namespace}.dlq.${durable}`,
});

export const EVENT_TYPE_HEADER = 'Trigrun-Event-Type';

/** Durable consumer names: `<service>-<purpose>`. */
export const CONSUMERS = {
  stepRunnerEngine: 'step-runner-engine',
  apiGatewayReadModel: 'api-gateway-read-model',
  notifierCallbacks: 'notifier-callbacks',
  stepRunnerDrive: 'step-runner-drive',
  /** The jobs reaction (libs/jobs): what executions do to their job, hosted by the scheduler. */
  schedulerJobs: 'scheduler-jobs',
} as const;
