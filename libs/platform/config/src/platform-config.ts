import { bool, int, oneOf, optionalStr, str, url } from './config';

/** Variables every TrigRun service reads. Apps spread this into their own schema. */
export const platformSchema = {
  PORT: int({ default: 3000, min: 0, max: 65535 }),
  HOST: str({ default: '127.0.0.1' }),
  TRIGRUN_DATABASE_URL: url({ default: 'postgres://postgres@127.0.0.1:5432/trigrun', protocols: ['postgres', 'postgresql'], secret: true }),
  TRIGRUN_NATS_URL: url({ default: 'nats://127.0.0.1:4222', protocols: ['nats', 'tls'] }),
  TRIGRUN_REDIS_URL: url({ default: 'redis://127.0.0.1:6379', protocols: ['redis', 'rediss'], secret: true }),
  /** Prefix of NATS subjects, stream names and Redis keys: lets several installs (or test runs) share servers. */
  TRIGRUN_NAMESPACE: str({ default: 'trigrun' }),
  TRIGRUN_PUBLIC_URL: url({ default: 'http://127.0.0.1:3000', protocols: ['http', 'https'] }),
  TRIGRUN_LOG_LEVEL: oneOf(['error', 'warn', 'info', 'debug'] as const, { default: 'info' }),
  TRIGRUN_JETSTREAM_REPLICAS: int({ default: 1, min: 1, max: 5 }),
  /** How long NATS waits for an ack before it redelivers; long HTTP calls send progress acks meanwhile. */
  TRIGRUN_ACK_WAIT_MS: int({ default: 30_000, min: 1_000, max: 600_000 }),
  /**
   * How long execution events stay in the stream. The read model keeps executions for good; the
   * stream must outlive every execution in flight (a workflow runs at most 2 hours), and replay
   * needs the original's events.
   */
  TRIGRUN_EVENT_RETENTION_DAYS: int({ default: 30, min: 1, max: 3650 }),
  TRIGRUN_SHUTDOWN_GRACE_MS: int({ default: 25_000, min: 0, max: 600_000 }),
  TRIGRUN_PRETTY_LOGS: bool({ default: false }),
  TRIGRUN_INSTANCE: optionalStr(),
};

export const NAMESPACE_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
