import { parkTokenAad } from '@trigrun/execution-store';
import { SecretCipher } from '@trigrun/secrets';
import type { WaitingView } from './execution.projection';
import { waitingPayloadsOpenedWith } from './waiting-payload';

const EXEC = 'exec_01KKRF0D803PD5AC4TSVZAH4F9';
const TOKEN = `${EXEC}.${'A'.repeat(43)}`;
const PUBLIC_URL = 'https://trigrun.example.com';
const keyOf = (byte: number) => Buffer.alloc(32, byte);

/** The api-gateway's opener: the master-key cipher with the token's execution-and-step AAD. */
function opener(cipher: SecretCipher) {
  return (executionId: string, waiting: WaitingView) => cipher.decrypt(waiting.tokenSealed.ciphertext, waiting.tokenSealed.key_version, parkTokenAad(executionId, waiting.stepId));
}

function parkedOn(cipher: SecretCipher, stepId: string, reason: WaitingView['reason']): WaitingView {
  const sealed = cipher.encrypt(TOKEN, parkTokenAad(EXEC, stepId));
  return { reason, stepId, message: reason === 'approval' ? 'Ship order 7?' : null, tokenSealed: { ciphertext: sealed.ciphertext, key_version: sealed.keyVersion }, expiresAt: '2026-03-15T10:10:00.000Z' };
}

describe('waitingPayloadsOpenedWith (real AES-256-GCM cipher)', () => {
  const v1 = new SecretCipher({ current: { version: 1, key: keyOf(1) }, previous: new Map() });

  it('opens the sealed token and builds the URLs', () => {
    const warn = jest.fn();
    const payloadOf = waitingPayloadsOpenedWith({ publicUrl: PUBLIC_URL, openToken: opener(v1), warn });
    expect(payloadOf(EXEC, parkedOn(v1, 'wait', 'webhook'))).toEqual({ resume_url: `${PUBLIC_URL}/v1/resume/${TOKEN}` });
    expect(payloadOf(EXEC, parkedOn(v1, 'review', 'approval'))).toEqual({
      review_url: `${PUBLIC_URL}/v1/approvals/${TOKEN}`,
      approve_url: `${PUBLIC_URL}/v1/approvals/${TOKEN}/approve`,
      reject_url: `${PUBLIC_URL}/v1/approvals/${TOKEN}/reject`,
      message: 'Ship order 7?',
    });
    expect(warn).not.toHaveBeenCalled();
  });

  it('still opens a token sealed under a retired key that is configured as previous', () => {
    const v2 = new SecretCipher({ current: { version: 2, key: keyOf(2) }, previous: new Map([[1, keyOf(1)]]) });
    const payloadOf = waitingPayloadsOpenedWith({ publicUrl: PUBLIC_URL, openToken: opener(v2) });
    expect(payloadOf(EXEC, parkedOn(v1, 'wait', 'webhook'))).toEqual({ resume_url: `${PUBLIC_URL}/v1/resume/${TOKEN}` });
  });

  it.each([
    ['its key was rotated away', () => new SecretCipher({ current: { version: 2, key: keyOf(2) }, previous: new Map() }), EXEC],
    ['it is bound to another execution', () => v1, 'exec_01KKRF0D80OTHEREXECUT10N0'],
  ])('serves the payload without URLs, and warns without the ciphertext, when the token does not open (%s)', (_why, cipherOf, executionId) => {
    const warn = jest.fn();
    const payloadOf = waitingPayloadsOpenedWith({ publicUrl: PUBLIC_URL, openToken: opener(cipherOf()), warn });
    const webhook = parkedOn(v1, 'wait', 'webhook');
    const approval = parkedOn(v1, 'review', 'approval');

    expect(payloadOf(executionId, webhook)).toEqual({ resume_url: null });
    expect(payloadOf(executionId, approval)).toEqual({ review_url: null, approve_url: null, reject_url: null, message: 'Ship order 7?' });

    expect(warn).toHaveBeenCalledTimes(2);
    const [message] = warn.mock.calls[0] as [string];
    expect(message).toContain(executionId);
    expect(message).toContain('step wait');
    expect(message).toContain('key version 1');
    expect(message).not.toContain(webhook.tokenSealed.ciphertext);
    expect(message).not.toContain(TOKEN.split('.')[1]);
  });
});
