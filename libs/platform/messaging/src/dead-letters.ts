import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';

/**
 * Records a message a consumer gave up on in the dead letters (the original payload, why, and
 * where it came from), deduplicated per consumer and stream sequence. Throws when the record
 * cannot be written: the caller then reads the message again, it is never silently lost.
 */
export async function recordDeadLetter(js: JetStreamClient, subject: string, consumer: string, msg: JsMsg, reason: string): Promise<void> {
  const h = natsHeaders();
  h.set('Trigrun-Dead-Letter-Reason', reason.slice(0, 1000));
  h.set('Trigrun-Original-Subject', msg.subject);
  h.set('Trigrun-Original-Sequence', String(msg.seq));
  await js.publish(subject, msg.data, { headers: h, msgID: `${consumer}:${msg.info.stream}:${msg.seq}` });
}
