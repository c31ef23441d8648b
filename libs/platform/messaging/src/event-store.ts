import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';

export interface StoredRecord {
  readonly seq: number;
  readonly data: Uint8Array;
}

export interface StreamSlice {
  readonly records: StoredRecord[];
  /** Stream sequence of the subject's last message; 0 when the subject is empty. */
  readonly lastSeq: number;
}

/** Another writer appended to the subject first (or the same message id was already stored). */
export class ConcurrencyConflict extends Error {
  constructor(subject: string, expected: number, cause?: unknown) {
    super(`${subject} moved past sequence ${expected}`, { cause });
    this.name = 'ConcurrencyConflict';
  }
}

/**
 * The workspace a message belongs to, as a header: consumers that share their slots out by
 * workspace read it without decoding the payload (see FairnessOptions).
 */
export const WORKSPACE_HEADER = 'Trigrun-Workspace';

/** What a header value may be here: visible ASCII, short. Anything else is left to the payload. */
const HEADER_SAFE = /^[\x21-\x7e]{1,128}$/;

export interface AppendOptions {
  readonly msgId: string;
  readonly expectedLastSeq: number;
  readonly headers?: Record<string, string>;
  /** Written as the WORKSPACE_HEADER header (omitted if it is not a plain header value). */
  readonly workspaceId?: string;
}

/** The workspace header of a message, if it carries a usable one. */
export const workspaceHeaderOf = (headers: { get(key: string): string } | undefined): string | undefined => {
  const value = headers?.get(WORKSPACE_HEADER);
  return value && HEADER_SAFE.test(value) ? value : undefined;
};

/**
 * Subject-per-aggregate event storage on JetStream. Appends carry a Nats-Msg-Id (a repeated
 * publish is dropped) and the expected last subject sequence (two writers can never both extend
 * the same history: the loser gets a ConcurrencyConflict, reloads and decides again).
 */
export class JetStreamEventStore {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
  ) {}

  async append(subject: string, payload: Uint8Array, opts: AppendOptions): Promise<number> {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(opts.headers ?? {})) h.set(k, v);
    if (opts.workspaceId !== undefined && HEADER_SAFE.test(opts.workspaceId)) h.set(WORKSPACE_HEADER, opts.workspaceId);
    try {
      const ack = await this.js.publish(subject, payload, {
        msgID: opts.msgId,
        headers: h,
        expect: { lastSubjectSequence: opts.expectedLastSeq, streamName: this.stream },
      });
      // A duplicate ack means this id was stored before: by us (a retried publish) or by a
      // concurrent writer that decided the same thing. Either way our view is stale.
      if (ack.duplicate) throw new ConcurrencyConflict(subject, opts.expectedLastSeq);
      return ack.seq;
    } catch (error) {
      if (error instanceof ConcurrencyConflict) throw error;
      if (
        error instanceof JetStreamApiError &&
        (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
      ) {
        throw new ConcurrencyConflict(subject, opts.expectedLastSeq, error);
      }
      throw new Error(`append to ${subject} failed: ${describeError(error)}`, { cause: error });
    }
  }

  /** Reads a subject's whole history in order. */
  async read(subject: string): Promise<StreamSlice> {
    const last = await this.lastSeq(subject);
    if (last === 0) return { records: [], lastSeq: 0 };
    const consumer = await this.js.consumers.get(this.stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
    const records: StoredRecord[] = [];
    try {
      while (records.length === 0 || records[records.length - 1].seq < last) {
        const batch = await consumer.fetch({ max_messages: 256, expires: 5_000 });
        let got = 0;
        for await (const m of batch) {
          got++;
          if (m.seq > last) break;
          records.push({ seq: m.seq, data: m.data });
          if (m.seq === last) break;
        }
        if (got === 0) throw new Error(`reading ${subject}: no message up to sequence ${last}`);
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return { records, lastSeq: last };
  }

  /**
   * The first `count` records of a subject, one direct get each: the opening of a history
   * without the ephemeral consumer `read` creates (a consumer is a server-side object: creating
   * and deleting one per call costs far more than two gets). For readers that need only how an
   * execution began.
   */
  async opening(subject: string, count: number): Promise<StoredRecord[]> {
    const records: StoredRecord[] = [];
    let seq = 1;
    while (records.length < count) {
      const m = await this.jsm.direct.getMessage(this.stream, { next_by_subj: subject, seq });
      if (!m) break;
      records.push({ seq: m.seq, data: m.data });
      seq = m.seq + 1;
    }
    return records;
  }

  async lastSeq(subject: string): Promise<number> {
    try {
      const m = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject });
      return m?.seq ?? 0;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.NoMessageFound) return 0;
      throw error;
    }
  }
}

/** An error's message followed by its causes' ("a: b: c"), so a log line that shows only the message still says why. */
function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) parts.push(e.message);
  return parts.length > 0 ? parts.join(': ') : String(error);
}

/**
 * A counter that moves whenever the connection drops or comes back. What a server acknowledged
 * just before it crashed can be gone when it restarts (nats-server 2.9 flushes its file store a
 * few milliseconds after the ack), so a view built from acknowledged appends is trusted only
 * while this has not moved (the engine's cache, docs/recovery.md).
 */
export function connectionEpoch(nc: { status(): AsyncIterable<{ type: string }> }): () => number {
  let epoch = 0;
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'disconnect' || s.type === 'reconnect') epoch++;
  })().catch(() => undefined);
  return () => epoch;
}
