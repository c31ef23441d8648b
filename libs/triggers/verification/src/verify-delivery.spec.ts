import { createHmac } from 'node:crypto';
import { SIGNATURE_HEADERS, signatureHeaders, type WebhookVerification } from './verification';
import { verifyDelivery } from './verify-delivery';

const now = new Date('2023-11-14T22:13:20Z'); // 1700000000
const body = Buffer.from('Hello, World!');
const github: WebhookVerification = { scheme: 'github', secret: "It's a Secret to Everybody" };
const signature = { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
const secret = { 'x-webhook-secret': 'shared-secret-value' };

describe('verifyDelivery', () => {
  it.each`
    case                                     | auth                                                              | headers                      | expected                          | by
    ${'neither configured: open'}            | ${{}}                                                             | ${{}}                        | ${'ok'}                           | ${[]}
    ${'nulls: open'}                         | ${{ webhookSecret: null, verification: null }}                    | ${{}}                        | ${'ok'}                           | ${[]}
    ${'the shared secret alone'}             | ${{ webhookSecret: 'shared-secret-value' }}                       | ${secret}                    | ${'ok'}                           | ${['shared_secret']}
    ${'a signature alone'}                   | ${{ verification: github }}                                       | ${signature}                 | ${'ok'}                           | ${['github']}
    ${'both, both present'}                  | ${{ webhookSecret: 'shared-secret-value', verification: github }} | ${{ ...secret, ...signature }} | ${'ok'}                         | ${['shared_secret', 'github']}
    ${'both, the secret missing'}            | ${{ webhookSecret: 'shared-secret-value', verification: github }} | ${signature}                 | ${'missing_secret'}               | ${undefined}
    ${'both, the signature missing'}         | ${{ webhookSecret: 'shared-secret-value', verification: github }} | ${secret}                    | ${'missing_signature'}            | ${undefined}
    ${'both, the secret wrong'}              | ${{ webhookSecret: 'another-secret', verification: github }}      | ${{ ...secret, ...signature }} | ${'secret_mismatch'}            | ${undefined}
    ${'no authentication object'}            | ${undefined}                                                      | ${{}}                        | ${'invalid_configuration'}        | ${undefined}
    ${'an empty configured secret'}          | ${{ webhookSecret: '' }}                                          | ${secret}                    | ${'invalid_configuration'}        | ${undefined}
  `('$case: $expected', ({ auth, headers, expected, by }) => {
    const result = verifyDelivery(auth, { body, headers, now });
    expect(result.ok ? 'ok' : result.reason).toBe(expected);
    if (result.ok) expect(result.by).toEqual(by);
  });

  it('keeps what the scheme learnt (signed timestamp, webhook id)', () => {
    const slack: WebhookVerification = { scheme: 'slack', secret: 'k', tolerance_seconds: 300 };
    const v0 = createHmac('sha256', 'k').update('v0:1700000000:').update(body).digest('hex');
    const headers = { ...secret, 'x-slack-signature': `v0=${v0}`, 'x-slack-request-timestamp': '1700000000' };
    expect(verifyDelivery({ webhookSecret: 'shared-secret-value', verification: slack }, { body, headers, now })).toEqual({
      ok: true,
      by: ['shared_secret', 'slack'],
      signedAt: 1_700_000_000,
    });
  });
});

describe('signatureHeaders', () => {
  it('lists every credential header, lower-case', () => {
    expect(SIGNATURE_HEADERS).toEqual(['x-webhook-secret', 'authorization', 'webhook-signature', 'x-hub-signature-256', 'x-hub-signature', 'stripe-signature', 'x-slack-signature']);
    expect(SIGNATURE_HEADERS.every((name) => name === name.toLowerCase())).toBe(true);
  });

  it.each`
    verification                                                                    | extra
    ${undefined}                                                                    | ${[]}
    ${null}                                                                         | ${[]}
    ${github}                                                                       | ${[]}
    ${{ scheme: 'hmac_sha256', secret: 'k', header: 'x-signature', encoding: 'hex' }} | ${['x-signature']}
    ${{ scheme: 'hmac_sha256', secret: 'k', header: 'x-hub-signature-256', encoding: 'hex' }} | ${[]}
  `('adds the configured hmac_sha256 header: $extra', ({ verification, extra }) => {
    expect(signatureHeaders(verification)).toEqual([...SIGNATURE_HEADERS, ...extra]);
  });
});
