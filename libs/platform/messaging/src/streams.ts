import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';

export interface StreamDefinition {
  readonly name: string;
  readonly subjects: string[];
  /** Window within which a repeated Nats-Msg-Id is dropped. */
  readonly duplicateWindowMs: number;
  readonly maxAgeMs?: number;
}

export interface ConsumerDefinition {
  readonly stream: string;
  readonly durable: string;
  readonly filterSubject: string;
  readonly ackWaitMs: number;
  readonly maxAckPending: number;
  /** -1: never give up; poison messages are terminated explicitly after being recorded. */
  readonly maxDeliver: number;
  /** Where a newly created consumer starts: the whole stream (default) or only what arrives next. */
  readonly startFrom?: 'all' | 'new';
}

const ms = (n: number) => n * 1_000_000; // JetStream durations are nanoseconds

/** Declares (creates or updates) a stream. Streams are declared in code, never by hand. */
export async function ensureStream(jsm: JetStreamManager, def: StreamDefinition, replicas: number): Promise<void> {
  const config = {
    name: def.name,
    subjects: def.subjects,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    duplicate_window: ms(def.duplicateWindowMs),
    max_age: def.maxAgeMs ? ms(def.maxAgeMs) : 0,
    allow_direct: true,
  };
  try {
    await jsm.streams.info(def.name);
    const { storage: _storage, ...updatable } = config;
    await jsm.streams.update(def.name, updatable);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) {
      await jsm.streams.add(config);
      return;
    }
    throw error;
  }
}

export async function ensureConsumer(jsm: JetStreamManager, def: ConsumerDefinition): Promise<void> {
  const config = {
    durable_name: def.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: def.startFrom === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    filter_subject: def.filterSubject,
    ack_wait: ms(def.ackWaitMs),
    max_ack_pending: def.maxAckPending,
    max_deliver: def.maxDeliver,
  };
  try {
    await jsm.consumers.info(def.stream, def.durable);
    await jsm.consumers.update(def.stream, def.durable, {
      ack_wait: config.ack_wait,
      max_ack_pending: config.max_ack_pending,
      max_deliver: config.max_deliver,
    });
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound) {
      await jsm.consumers.add(def.stream, config);
      return;
    }
    throw error;
  }
}

/** Deletes a durable consumer that is no longer read (a consumer that moved to a position of its own); none is fine. */
export async function removeConsumer(jsm: JetStreamManager, stream: string, durable: string): Promise<void> {
  try {
    await jsm.consumers.delete(stream, durable);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound) return;
    throw error;
  }
}
