import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { verifySignature } from './signature-schemes';
import { isStandardWebhookSecret } from './standard-webhooks';
import type { RefusalReason, WebhookHeaders, WebhookVerification } from './verification';

const at = (unixSeconds: number) => new Date(unixSeconds * 1000);
const job = (secret: string, tolerance_seconds = 300): WebhookVerification => ({ scheme: 'standard_webhooks', secret, tolerance_seconds });
const reason = (verification: WebhookVerification, body: Uint8Array, headers: WebhookHeaders, now: Date): RefusalReason | 'ok' => {
  const result = verifySignature(verification, { body, headers, now });
  return result.ok ? 'ok' : result.reason;
};

describe('standard_webhooks', () => {
  // Svix's published example (docs.svix.com, "Verifying webhooks manually"), the format
  // Standard Webhooks adopted.
  it('accepts the published Svix vector', () => {
    const headers = {
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    };
    const body = Buffer.from('{"test": 2432232314}');
    expect(verifySignature(job('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), { body, headers, now: at(1614265330) })).toEqual({
      ok: true,
      by: ['standard_webhooks'],
      signedAt: 1614265330,
      webhookId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    });
  });

  // Deliveries signed by the package itself, at a fixed instant.
  const secret = 'whsec_' + Buffer.from('a 32-byte key for the test suite').toString('base64');
  const other = 'whsec_' + Buffer.from('another key, also 32 bytes long!').toString('base64');
  const sender = new Webhook(secret);
  const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
  const ts = 1_700_000_000;
  const body = Buffer.from('{"type":"invoice.paid","data":{"id":"in_1"}}');
  const signed = (overrides: Partial<Record<string, string>> = {}, payload: Buffer = body, signer = sender): WebhookHeaders => ({
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': signer.sign(id, at(ts), payload),
    ...overrides,
  });

  it.each`
    case                                         | headers                                                                                      | given                          | verification                | now               | expected
    ${'signed by the package'}                   | ${signed()}                                                                                  | ${body}                        | ${job(secret)}              | ${at(ts)}         | ${'ok'}
    ${'a non-JSON body (the package would throw)'} | ${signed({}, Buffer.from('plain text'))}                                                   | ${Buffer.from('plain text')}   | ${job(secret)}              | ${at(ts)}         | ${'ok'}
    ${'an empty body'}                           | ${signed({}, Buffer.alloc(0))}                                                               | ${Buffer.alloc(0)}             | ${job(secret)}              | ${at(ts)}         | ${'ok'}
    ${'two signatures, the match second'}        | ${signed({ 'webhook-signature': `${new Webhook(other).sign(id, at(ts), body)} ${sender.sign(id, at(ts), body)}` })} | ${body} | ${job(secret)} | ${at(ts)}     | ${'ok'}
    ${'a v1a (asymmetric) entry skipped'}        | ${signed({ 'webhook-signature': `v1a,AAAA ${sender.sign(id, at(ts), body)}` })}               | ${body}                        | ${job(secret)}              | ${at(ts)}         | ${'ok'}
    ${'a stale timestamp'}                       | ${signed()}                                                                                  | ${body}                        | ${job(secret)}              | ${at(ts + 301)}   | ${'timestamp_out_of_tolerance'}
    ${'a stale timestamp, a wider window'}       | ${signed()}                                                                                  | ${body}                        | ${job(secret, 3600)}        | ${at(ts + 3000)}  | ${'ok'}
    ${'a timestamp from the future'}             | ${signed()}                                                                                  | ${body}                        | ${job(secret)}              | ${at(ts - 301)}   | ${'timestamp_out_of_tolerance'}
    ${'a tampered body'}                         | ${signed()}                                                                                  | ${Buffer.from('{"type":"invoice.paid","data":{"id":"in_2"}}')} | ${job(secret)} | ${at(ts)} | ${'signature_mismatch'}
    ${'the wrong secret'}                        | ${signed()}                                                                                  | ${body}                        | ${job(other)}               | ${at(ts)}         | ${'signature_mismatch'}
    ${'another id'}                              | ${signed({ 'webhook-id': 'msg_other' })}                                                     | ${body}                        | ${job(secret)}              | ${at(ts)}         | ${'signature_mismatch'}
    ${'a moved timestamp'}                       | ${signed({ 'webhook-timestamp': String(ts + 1) })}                                           | ${body}                        | ${job(secret)}              | ${at(ts)}         | ${'signature_mismatch'}
    ${'no webhook-id'}                           | ${signed({ 'webhook-id': undefined })}                                                       | ${body}                        | ${job(secret)}              | ${at(ts)}         | ${'missing_webhook_id'}
    ${'an id with a dot'}                        | ${signed({ 'webhook-id': 'msg.1' })}                                                         | ${body}                        | ${job(secret)}              | ${at(ts)}         | ${'malformed_webhook_id'}
    ${'an id with a space'}                      | ${signed({ 'webhook-id': 'msg 1' })}                                                         | ${body}                        | ${job(secret)}              | ${at(ts)}         | ${'malformed_webhook_id'}
    ${'no webhook-signature'}                    | ${signed({ 'webhook-signature': undefined })}                                                | ${body}                        | ${job(secret)}              | ${at(ts)}         | ${'missing_signature'}
    ${'no webhook-timestamp'}                    | ${signed({ 'webhook-timestamp': undefined })}                                                | ${body}                        | ${job(secret)}              | ${at(ts)}         | ${'missing_timestamp'}
    ${'a timestamp parseInt would accept'}       | ${signed({ 'webhook-timestamp': `${ts}abc` })}                                               | ${body}                        | ${job(secret)}              | ${at(ts)}         | ${'malformed_timestamp'}
    ${'only v2 entries'}                         | ${signed({ 'webhook-signature': sender.sign(id, at(ts), body).replace('v1,', 'v2,') })}     | ${body}                        | ${job(secret)}              | ${at(ts)}         | ${'malformed_signature'}
    ${'a signature of the wrong length'}         | ${signed({ 'webhook-signature': 'v1,AAAA' })}                                                | ${body}                        | ${job(secret)}              | ${at(ts)}         | ${'malformed_signature'}
    ${'garbage'}                                 | ${signed({ 'webhook-signature': ',,, v1, v1,,' })}                                           | ${body}                        | ${job(secret)}              | ${at(ts)}         | ${'malformed_signature'}
  `('$case: $expected', ({ headers, given, verification, now, expected }) => {
    expect(reason(verification, given, headers, now)).toBe(expected);
  });

  it('signs the bytes: bodies the package cannot tell apart are told apart', () => {
    // The package decodes a Buffer as UTF-8 before signing, so 0xFF and 0xFE both become U+FFFD.
    const a = Buffer.from([0x7b, 0xff, 0x7d]);
    const b = Buffer.from([0x7b, 0xfe, 0x7d]);
    expect(sender.sign(id, at(ts), a)).toBe(sender.sign(id, at(ts), b));
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const bytesSignature = `v1,${createHmac('sha256', key).update(`${id}.${ts}.`).update(a).digest('base64')}`;
    expect(reason(job(secret), a, signed({ 'webhook-signature': bytesSignature }), at(ts))).toBe('ok');
    expect(reason(job(secret), b, signed({ 'webhook-signature': bytesSignature }), at(ts))).toBe('signature_mismatch');
  });

  it.each`
    secret                                        | accepted
    ${secret}                                     | ${true}
    ${'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'}   | ${true}
    ${'whsec_QQ=='}                               | ${true}
    ${'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'}         | ${false}
    ${'whsec_'}                                   | ${false}
    ${'whsec_QQ'}                                 | ${false}
    ${'whsec_abc'}                                | ${false}
    ${'whsec_!!!!'}                               | ${false}
    ${'whsec_ QQ=='}                              | ${false}
    ${'whsec_QQ==QQ=='}                           | ${false}
    ${'whsec_-_-_'}                               | ${false}
  `('isStandardWebhookSecret($secret) is $accepted', ({ secret: candidate, accepted }) => {
    expect(isStandardWebhookSecret(candidate)).toBe(accepted);
  });
});
