import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { normalizeVerification } from './normalize-verification';
import { verifySharedSecret } from './shared-secret';
import { verifySignature } from './signature-schemes';
import { REFUSAL_REASONS, type WebhookHeaders, type WebhookVerification } from './verification';
import { verifyDelivery } from './verify-delivery';

const NAMES = [
  'x-webhook-secret',
  'authorization',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'x-hub-signature-256',
  'stripe-signature',
  'x-slack-signature',
  'x-slack-request-timestamp',
  'x-signature',
];

/** Values built from the pieces parsers split on, so the generator reaches their branches, plus any text. */
const piece = fc.oneof(
  fc.constantFrom('t=', 'v1=', 'v0=', 'v1,', 'sha256=', 'Bearer ', ',', ', ', ' ', '=', '.', '1700000000', '-1', '1e9', 'whsec_'),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 70 }),
  fc.base64String({ maxLength: 48 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const value = fc.oneof(fc.array(piece, { maxLength: 12 }).map((parts) => parts.join('')), fc.string({ unit: 'binary', maxLength: 200 }));
const headerValue = fc.oneof(value, fc.array(value, { maxLength: 3 }), fc.constant(undefined));
const headers = fc.dictionary(fc.constantFrom(...NAMES), headerValue, { maxKeys: NAMES.length }) as fc.Arbitrary<WebhookHeaders>;
const body = fc.uint8Array({ maxLength: 512 });
const now = fc.integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 }).map((ms) => new Date(ms));
const verification: fc.Arbitrary<WebhookVerification> = fc.oneof(
  fc.record({ scheme: fc.constantFrom('standard_webhooks' as const), secret: fc.constantFrom('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_QQ=='), tolerance_seconds: fc.integer({ min: 1, max: 86_400 }) }),
  fc.record({ scheme: fc.constantFrom('stripe' as const, 'slack' as const), secret: fc.string({ minLength: 1, maxLength: 40 }), tolerance_seconds: fc.integer({ min: 1, max: 86_400 }) }),
  fc.record({ scheme: fc.constant('github' as const), secret: fc.string({ minLength: 1, maxLength: 40 }) }),
  fc.record({ scheme: fc.constant('hmac_sha256' as const), secret: fc.string({ minLength: 1 }), header: fc.constant('x-signature'), encoding: fc.constantFrom('hex' as const, 'base64' as const) }),
);

describe('properties (fast-check)', () => {
  it('any headers, body and instant: a verdict with a known reason, never a throw', () => {
    fc.assert(
      fc.property(verification, headers, body, now, (config, given, bytes, at) => {
        const result = verifySignature(config, { body: bytes, headers: given, now: at });
        if (!result.ok) expect(REFUSAL_REASONS).toContain(result.reason);
        const delivery = verifyDelivery({ webhookSecret: 'shared-secret-value', verification: config }, { body: bytes, headers: given, now: at });
        if (!delivery.ok) expect(REFUSAL_REASONS).toContain(delivery.reason);
        const shared = verifySharedSecret('shared-secret-value', given);
        if (!shared.ok) expect(['missing_secret', 'secret_mismatch']).toContain(shared.reason);
      }),
      { numRuns: 2000 },
    );
  });

  it('garbage signatures are never accepted', () => {
    fc.assert(
      fc.property(verification, headers, body, now, (config, given, bytes, at) => {
        expect(verifySignature(config, { body: bytes, headers: given, now: at }).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('a github signature passes exactly for its own body', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), body, body, (secret, signed, received) => {
        const header = `sha256=${createHmac('sha256', secret).update(signed).digest('hex')}`;
        const result = verifySignature({ scheme: 'github', secret }, { body: received, headers: { 'x-hub-signature-256': header }, now: new Date(0) });
        expect(result.ok).toBe(Buffer.from(signed).equals(Buffer.from(received)));
      }),
    );
  });

  it('normalizeVerification answers any input with a value or problems', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ scheme: fc.constantFrom('github', 'stripe', 'slack', 'hmac_sha256', 'standard_webhooks', 'x'), secret: fc.anything(), tolerance_seconds: fc.anything(), header: fc.anything(), encoding: fc.anything() }, { requiredKeys: [] })), (input) => {
        const result = normalizeVerification(input);
        expect('value' in result ? result.value.scheme : result.problems.length > 0).toBeTruthy();
      }),
      { numRuns: 2000 },
    );
  });
});
