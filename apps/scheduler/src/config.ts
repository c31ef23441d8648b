import { int, parseConfig, platformSchema } from '@trigrun/config';

export const configSchema = {
  ...platformSchema,
  /** How often the scheduler looks for due slots and due execution timers; the firing lag is at most about this. */
  TRIGRUN_SCHEDULER_POLL_MS: int({ default: 100, min: 10, max: 60_000 }),
  /** Due jobs claimed per transaction. */
  TRIGRUN_SCHEDULER_BATCH: int({ default: 500, min: 1, max: 10_000 }),
  /**
   * How far ahead of its slot a run is armed: queued with its scheduled_for, held by the stream
   * until the slot, so the work of queueing is done before the instant rather than at it.
   */
  TRIGRUN_SCHEDULER_LOOKAHEAD_MS: int({ default: 30_000, min: 0, max: 300_000 }),
  /**
   * The sweeper of last resort (docs/recovery.md): how often it looks for executions with no
   * pending driver; 0 turns it off.
   */
  TRIGRUN_SWEEPER_INTERVAL_MS: int({ default: 30_000, min: 0, max: 3_600_000 }),
  /**
   * Silence allowed beyond what an execution's next action may take (its request's timeout, its
   * retry's or slot's due time, plus ack_wait) before the sweeper re-drives it. Above the longest
   * a message may legitimately wait: a handler's retry backoff (60 s) and a fair hand-back (30 s).
   */
  TRIGRUN_SWEEPER_STALL_MS: int({ default: 120_000, min: 1_000, max: 86_400_000 }),
};

export type ServiceConfig = ReturnType<typeof loadConfig>;
export const loadConfig = (env = process.env) => parseConfig(configSchema, env);
