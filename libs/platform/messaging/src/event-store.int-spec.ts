import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import { closeMessaging, connectMessaging, type Messaging } from './connection';
import { ConcurrencyConflict, JetStreamEventStore } from './event-store';
import { ensureStream } from './streams';

const NATS_URL = process.env.TRIGRUN_NATS_URL ?? 'nats://127.0.0.1:4222';

describe('JetStreamEventStore (real NATS)', () => {
  const ns = `t${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const stream = `${ns.toUpperCase()}_ES`;
  let messaging: Messaging;
  let store: JetStreamEventStore;
  const enc = (s: string) => new TextEncoder().encode(s);
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);

  beforeAll(async () => {
    messaging = await connectMessaging(NATS_URL, 'event-store-spec');
    await ensureStream(messaging.jsm, { name: stream, subjects: [`${ns}.agg.*`], duplicateWindowMs: 60_000 }, 1);
    store = new JetStreamEventStore(messaging.js, messaging.jsm, stream);
  });

  afterAll(async () => {
    await messaging.jsm.streams.delete(stream).catch(() => undefined);
    await closeMessaging(messaging);
  });

  it('appends in order and reads the whole history back', async () => {
    const subject = `${ns}.agg.a`;
    expect(await store.read(subject)).toEqual({ records: [], lastSeq: 0 });
    const s1 = await store.append(subject, enc('one'), { msgId: 'a:1', expectedLastSeq: 0 });
    const s2 = await store.append(subject, enc('two'), { msgId: 'a:2', expectedLastSeq: s1 });
    await store.append(`${ns}.agg.other`, enc('noise'), { msgId: 'o:1', expectedLastSeq: 0 });
    const s3 = await store.append(subject, enc('three'), { msgId: 'a:3', expectedLastSeq: s2 });
    const slice = await store.read(subject);
    expect(slice.lastSeq).toBe(s3);
    expect(slice.records.map((r) => dec(r.data))).toEqual(['one', 'two', 'three']);
  });

  it("reads a history's opening by direct get: its first records in order, past other subjects' messages", async () => {
    const subject = `${ns}.agg.opening`;
    expect(await store.opening(subject, 2)).toEqual([]);
    await store.append(`${ns}.agg.before`, enc('noise'), { msgId: 'p:0', expectedLastSeq: 0 });
    const s1 = await store.append(subject, enc('one'), { msgId: 'p:1', expectedLastSeq: 0 });
    await store.append(`${ns}.agg.between`, enc('noise'), { msgId: 'q:1', expectedLastSeq: 0 });
    expect((await store.opening(subject, 2)).map((r) => dec(r.data))).toEqual(['one']);
    const s2 = await store.append(subject, enc('two'), { msgId: 'p:2', expectedLastSeq: s1 });
    await store.append(subject, enc('three'), { msgId: 'p:3', expectedLastSeq: s2 });
    const opening = await store.opening(subject, 2);
    expect(opening.map((r) => dec(r.data))).toEqual(['one', 'two']);
    expect(opening.map((r) => r.seq)).toEqual([s1, s2]);
  });

  it('lets only one of two writers extend the same history', async () => {
    const subject = `${ns}.agg.b`;
    const s1 = await store.append(subject, enc('start'), { msgId: 'b:1', expectedLastSeq: 0 });
    const results = await Promise.allSettled([
      store.append(subject, enc('writer-1'), { msgId: 'b:2:w1', expectedLastSeq: s1 }),
      store.append(subject, enc('writer-2'), { msgId: 'b:2:w2', expectedLastSeq: s1 }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(ConcurrencyConflict);
    expect((await store.read(subject)).records).toHaveLength(2);
  });

  it('refuses to create a history that already exists', async () => {
    const subject = `${ns}.agg.c`;
    await store.append(subject, enc('first'), { msgId: 'c:1', expectedLastSeq: 0 });
    await expect(store.append(subject, enc('again'), { msgId: 'c:1-other', expectedLastSeq: 0 })).rejects.toBeInstanceOf(ConcurrencyConflict);
  });

  it('drops a repeated publish of the same message id', async () => {
    const subject = `${ns}.agg.d`;
    const s1 = await store.append(subject, enc('x'), { msgId: 'd:1', expectedLastSeq: 0 });
    // The same id again (a publisher retrying after a lost ack) is reported, not stored twice.
    await expect(store.append(subject, enc('x'), { msgId: 'd:1', expectedLastSeq: s1 })).rejects.toBeInstanceOf(ConcurrencyConflict);
    expect((await store.read(subject)).records).toHaveLength(1);
  });

  it('reports a stale expected sequence as a ConcurrencyConflict carrying the server error', async () => {
    const subject = `${ns}.agg.e`;
    const s1 = await store.append(subject, enc('one'), { msgId: 'e:1', expectedLastSeq: 0 });
    await store.append(subject, enc('two'), { msgId: 'e:2', expectedLastSeq: s1 });
    const error = await store.append(subject, enc('late'), { msgId: 'e:2-late', expectedLastSeq: s1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyConflict);
    expect((error as Error).message).toBe(`${subject} moved past sequence ${s1}`);
    expect((error as Error).cause).toBeInstanceOf(JetStreamApiError);
    expect(((error as Error).cause as JetStreamApiError).code).toBe(JetStreamApiCodes.StreamWrongLastSequence);
    expect((await store.read(subject)).records.map((r) => dec(r.data))).toEqual(['one', 'two']);
  });

  it('says why an append no stream captures failed', async () => {
    const subject = `${ns}.nostream.x`;
    const error = await store.append(subject, enc('x'), { msgId: 'n:1', expectedLastSeq: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ConcurrencyConflict);
    const message = (error as Error).message;
    expect(message.startsWith(`append to ${subject} failed: `)).toBe(true);
    expect(message).toContain(`no responders: '${subject}'`); // nats.js: "jetstream is not enabled: no responders: '<subject>'"
  });
});
