import { verifySharedSecret } from './shared-secret';
import type { WebhookHeaders } from './verification';

const SECRET = 's3cr3t-webhook-value';

describe('verifySharedSecret', () => {
  it.each`
    case                                              | headers                                                                    | expected
    ${'x-webhook-secret'}                             | ${{ 'x-webhook-secret': SECRET }}                                          | ${'ok'}
    ${'x-webhook-secret with surrounding spaces'}     | ${{ 'x-webhook-secret': ` ${SECRET} ` }}                                   | ${'ok'}
    ${'Authorization: Bearer'}                        | ${{ authorization: `Bearer ${SECRET}` }}                                   | ${'ok'}
    ${'the scheme in another case'}                   | ${{ authorization: `bEARER ${SECRET}` }}                                   | ${'ok'}
    ${'several spaces after Bearer'}                  | ${{ authorization: `Bearer   ${SECRET}` }}                                 | ${'ok'}
    ${'one value in a list'}                          | ${{ 'x-webhook-secret': [SECRET] }}                                        | ${'ok'}
    ${'nothing'}                                      | ${{}}                                                                      | ${'missing_secret'}
    ${'an empty x-webhook-secret'}                    | ${{ 'x-webhook-secret': '' }}                                              | ${'missing_secret'}
    ${'an empty list'}                                | ${{ 'x-webhook-secret': [] }}                                              | ${'missing_secret'}
    ${'Basic credentials'}                            | ${{ authorization: `Basic ${Buffer.from(`u:${SECRET}`).toString('base64')}` }} | ${'missing_secret'}
    ${'Bearer with no token'}                         | ${{ authorization: 'Bearer' }}                                             | ${'missing_secret'}
    ${'Bearer without a space'}                       | ${{ authorization: `Bearer${SECRET}` }}                                    | ${'missing_secret'}
    ${'a wrong secret'}                               | ${{ 'x-webhook-secret': 's3cr3t-webhook-valuE' }}                          | ${'secret_mismatch'}
    ${'a prefix of the secret'}                       | ${{ 'x-webhook-secret': SECRET.slice(0, -1) }}                             | ${'secret_mismatch'}
    ${'the secret and more'}                          | ${{ 'x-webhook-secret': `${SECRET}x` }}                                    | ${'secret_mismatch'}
    ${'a wrong bearer token'}                         | ${{ authorization: 'Bearer nope' }}                                        | ${'secret_mismatch'}
    ${'a wrong x-webhook-secret beside a right bearer'} | ${{ 'x-webhook-secret': 'nope', authorization: `Bearer ${SECRET}` }}     | ${'secret_mismatch'}
    ${'two x-webhook-secret headers, as a list'}      | ${{ 'x-webhook-secret': [SECRET, SECRET] }}                                | ${'secret_mismatch'}
    ${'two x-webhook-secret headers, joined'}         | ${{ 'x-webhook-secret': `${SECRET}, ${SECRET}` }}                          | ${'secret_mismatch'}
    ${'a huge value'}                                 | ${{ 'x-webhook-secret': 'x'.repeat(1_000_000) }}                           | ${'secret_mismatch'}
    ${'a value that is not text'}                     | ${{ 'x-webhook-secret': 42 }}                                              | ${'missing_secret'}
  `('$case: $expected', ({ headers, expected }) => {
    const result = verifySharedSecret(SECRET, headers as WebhookHeaders);
    expect(result.ok ? 'ok' : result.reason).toBe(expected);
  });

  it('says what authenticated the delivery', () => {
    expect(verifySharedSecret(SECRET, { 'x-webhook-secret': SECRET })).toEqual({ ok: true, by: ['shared_secret'] });
  });

  it('never echoes the secret in its detail', () => {
    const result = verifySharedSecret(SECRET, { 'x-webhook-secret': `${SECRET}!` });
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('refuses a job without a secret rather than comparing with nothing', () => {
    expect(verifySharedSecret('', { 'x-webhook-secret': '' })).toMatchObject({ ok: false, reason: 'invalid_configuration' });
  });
});
