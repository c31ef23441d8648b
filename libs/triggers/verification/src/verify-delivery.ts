import { verifySharedSecret } from './shared-secret';
import { verifySignature } from './signature-schemes';
import { refused, type VerificationMethod, type VerificationResult, type WebhookDelivery, type WebhookVerification } from './verification';

/** What a `webhook_trigger` job asks of a delivery: its write-only `webhook_secret`, a signature scheme, both, or neither. */
export interface TriggerAuthentication {
  readonly webhookSecret?: string | null;
  readonly verification?: WebhookVerification | null;
}

/**
 * The verdict on one delivery: every configured check must pass, the shared secret first. A job
 * with neither configured accepts every delivery (`by: []`, its URL is then the only
 * credential); whether a job may be created that way is the jobs domain's rule, not this one's.
 */
export function verifyDelivery(auth: TriggerAuthentication, delivery: WebhookDelivery): VerificationResult {
  // A caller bug must not read as "nothing configured", which accepts everything.
  if (typeof auth !== 'object' || auth === null) return refused('invalid_configuration', 'no trigger authentication was given');
  const by: VerificationMethod[] = [];
  if (auth.webhookSecret !== undefined && auth.webhookSecret !== null) {
    const secret = verifySharedSecret(auth.webhookSecret, delivery?.headers ?? {});
    if (!secret.ok) return secret;
    by.push(...secret.by);
  }
  if (auth.verification === undefined || auth.verification === null) return { ok: true, by };
  const signature = verifySignature(auth.verification, delivery);
  if (!signature.ok) return signature;
  return { ...signature, by: [...by, ...signature.by] };
}
