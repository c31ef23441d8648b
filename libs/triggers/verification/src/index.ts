export {
  type VerificationScheme,
  type TimestampedScheme,
  type HmacEncoding,
  type WebhookVerification,
  type WebhookHeaders,
  type WebhookDelivery,
  type VerificationMethod,
  type Verified,
  type Refused,
  type RefusalReason,
  type VerificationResult,
  VERIFICATION_SCHEMES,
  TIMESTAMPED_SCHEMES,
  HMAC_ENCODINGS,
  REFUSAL_REASONS,
  DEFAULT_TOLERANCE_SECONDS,
  MAX_TOLERANCE_SECONDS,
  MAX_SECRET_LENGTH,
  MAX_HEADER_NAME_LENGTH,
  MAX_SIGNATURE_HEADER_LENGTH,
  SIGNATURE_HEADERS,
  signatureHeaders,
} from './verification';
export { normalizeVerification, type NormalizedVerification, type VerificationProblem } from './normalize-verification';
export { verifySharedSecret } from './shared-secret';
export { verifySignature } from './signature-schemes';
export { isStandardWebhookSecret } from './standard-webhooks';
export { verifyDelivery, type TriggerAuthentication } from './verify-delivery';
