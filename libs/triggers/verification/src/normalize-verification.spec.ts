import { normalizeVerification } from './normalize-verification';

const F = 'webhook_verification';
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('normalizeVerification', () => {
  it.each`
    input                                                                                         | value
    ${{ scheme: 'github', secret: 'x' }}                                                          | ${{ scheme: 'github', secret: 'x' }}
    ${{ scheme: 'stripe', secret: 'whsec_abc' }}                                                  | ${{ scheme: 'stripe', secret: 'whsec_abc', tolerance_seconds: 300 }}
    ${{ scheme: 'slack', secret: 's', tolerance_seconds: 60 }}                                    | ${{ scheme: 'slack', secret: 's', tolerance_seconds: 60 }}
    ${{ scheme: 'standard_webhooks', secret: WHSEC, tolerance_seconds: 86_400 }}                  | ${{ scheme: 'standard_webhooks', secret: WHSEC, tolerance_seconds: 86_400 }}
    ${{ scheme: 'standard_webhooks', secret: WHSEC, tolerance_seconds: 1 }}                       | ${{ scheme: 'standard_webhooks', secret: WHSEC, tolerance_seconds: 1 }}
    ${{ scheme: 'hmac_sha256', secret: 'k', header: 'X-Signature' }}                              | ${{ scheme: 'hmac_sha256', secret: 'k', header: 'x-signature', encoding: 'hex' }}
    ${{ scheme: 'hmac_sha256', secret: 'k', header: 'x-sig', encoding: 'base64' }}                | ${{ scheme: 'hmac_sha256', secret: 'k', header: 'x-sig', encoding: 'base64' }}
    ${{ scheme: 'github', secret: 'x'.repeat(1024) }}                                             | ${{ scheme: 'github', secret: 'x'.repeat(1024) }}
  `('accepts $input', ({ input, value }) => {
    expect(normalizeVerification(input)).toEqual({ value });
  });

  it.each`
    input                                                                         | field                          | message
    ${undefined}                                                                  | ${F}                           | ${'must be an object'}
    ${null}                                                                       | ${F}                           | ${'must be an object'}
    ${'github'}                                                                   | ${F}                           | ${'must be an object'}
    ${[]}                                                                         | ${F}                           | ${'must be an object'}
    ${{ scheme: 'paypal', secret: 'x' }}                                          | ${`${F}.scheme`}               | ${'must be one of standard_webhooks, github, stripe, slack, hmac_sha256'}
    ${{ secret: 'x' }}                                                            | ${`${F}.scheme`}               | ${'must be one of standard_webhooks, github, stripe, slack, hmac_sha256'}
    ${{ scheme: 'GitHub', secret: 'x' }}                                          | ${`${F}.scheme`}               | ${'must be one of standard_webhooks, github, stripe, slack, hmac_sha256'}
    ${{ scheme: 'github' }}                                                       | ${`${F}.secret`}               | ${'must be a non-empty string'}
    ${{ scheme: 'github', secret: '' }}                                           | ${`${F}.secret`}               | ${'must be a non-empty string'}
    ${{ scheme: 'github', secret: 42 }}                                           | ${`${F}.secret`}               | ${'must be a non-empty string'}
    ${{ scheme: 'github', secret: 'x'.repeat(1025) }}                             | ${`${F}.secret`}               | ${'must be at most 1024 characters'}
    ${{ scheme: 'standard_webhooks', secret: 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }} | ${`${F}.secret`}              | ${'must be whsec_ followed by base64 (a Standard Webhooks secret)'}
    ${{ scheme: 'standard_webhooks', secret: 'whsec_abc' }}                       | ${`${F}.secret`}               | ${'must be whsec_ followed by base64 (a Standard Webhooks secret)'}
    ${{ scheme: 'standard_webhooks', secret: 'whsec_' }}                          | ${`${F}.secret`}               | ${'must be whsec_ followed by base64 (a Standard Webhooks secret)'}
    ${{ scheme: 'stripe', secret: 's', tolerance_seconds: 0 }}                    | ${`${F}.tolerance_seconds`}    | ${'must be an integer from 1 to 86400'}
    ${{ scheme: 'stripe', secret: 's', tolerance_seconds: 86_401 }}               | ${`${F}.tolerance_seconds`}    | ${'must be an integer from 1 to 86400'}
    ${{ scheme: 'stripe', secret: 's', tolerance_seconds: 1.5 }}                  | ${`${F}.tolerance_seconds`}    | ${'must be an integer from 1 to 86400'}
    ${{ scheme: 'stripe', secret: 's', tolerance_seconds: '300' }}                | ${`${F}.tolerance_seconds`}    | ${'must be an integer from 1 to 86400'}
    ${{ scheme: 'slack', secret: 's', tolerance_seconds: null }}                  | ${`${F}.tolerance_seconds`}    | ${'must be an integer from 1 to 86400'}
    ${{ scheme: 'github', secret: 's', tolerance_seconds: 300 }}                  | ${`${F}.tolerance_seconds`}    | ${'is only used with schemes standard_webhooks, stripe, slack'}
    ${{ scheme: 'hmac_sha256', secret: 's', header: 'x-s', tolerance_seconds: 300 }} | ${`${F}.tolerance_seconds`} | ${'is only used with schemes standard_webhooks, stripe, slack'}
    ${{ scheme: 'hmac_sha256', secret: 's' }}                                     | ${`${F}.header`}               | ${'is required for scheme hmac_sha256'}
    ${{ scheme: 'hmac_sha256', secret: 's', header: 'X Signature' }}              | ${`${F}.header`}               | ${'must be a header name (at most 256 token characters)'}
    ${{ scheme: 'hmac_sha256', secret: 's', header: 'x-sig:' }}                   | ${`${F}.header`}               | ${'must be a header name (at most 256 token characters)'}
    ${{ scheme: 'hmac_sha256', secret: 's', header: '' }}                         | ${`${F}.header`}               | ${'must be a header name (at most 256 token characters)'}
    ${{ scheme: 'hmac_sha256', secret: 's', header: 'x'.repeat(257) }}            | ${`${F}.header`}               | ${'must be a header name (at most 256 token characters)'}
    ${{ scheme: 'hmac_sha256', secret: 's', header: ['x-sig'] }}                  | ${`${F}.header`}               | ${'must be a header name (at most 256 token characters)'}
    ${{ scheme: 'hmac_sha256', secret: 's', header: 'x-s', encoding: 'HEX' }}     | ${`${F}.encoding`}             | ${'must be one of hex, base64'}
    ${{ scheme: 'github', secret: 's', header: 'x-s' }}                           | ${`${F}.header`}               | ${'is only used with scheme hmac_sha256'}
    ${{ scheme: 'slack', secret: 's', encoding: 'hex' }}                          | ${`${F}.encoding`}             | ${'is only used with scheme hmac_sha256'}
    ${{ scheme: 'github', secret: 's', tolerance: 300 }}                          | ${`${F}.tolerance`}            | ${'is not a known field'}
  `('$field $message', ({ input, field, message }) => {
    expect(normalizeVerification(input)).toEqual({ problems: [{ field, message }] });
  });

  it('reports every problem at once, under the given field', () => {
    expect(normalizeVerification({ scheme: 'hmac_sha256', secret: '', encoding: 'hexadecimal', extra: true }, 'steps[0].verification')).toEqual({
      problems: [
        { field: 'steps[0].verification.extra', message: 'is not a known field' },
        { field: 'steps[0].verification.secret', message: 'must be a non-empty string' },
        { field: 'steps[0].verification.header', message: 'is required for scheme hmac_sha256' },
        { field: 'steps[0].verification.encoding', message: 'must be one of hex, base64' },
      ],
    });
  });

  it('does not read inherited fields', () => {
    const input = Object.create({ scheme: 'github', secret: 'inherited' }) as object;
    expect(normalizeVerification(input)).toEqual({
      problems: [
        { field: `${F}.scheme`, message: 'must be one of standard_webhooks, github, stripe, slack, hmac_sha256' },
        { field: `${F}.secret`, message: 'must be a non-empty string' },
      ],
    });
  });
});
