export { type IngressRefusal } from './refusal';
export { type FormFields, parseFields } from './fields';
export { mediaTypeOf } from './media-type';
export { type BodyLimits, type JsonValue, type ParsedTriggerBody, type TriggerBody, DEFAULT_BODY_LIMITS, parseTriggerBody } from './trigger-body';
export {
  type TriggerHeaders,
  MAX_HEADER_NAME_LENGTH,
  MAX_HEADER_VALUE_LENGTH,
  MAX_TRIGGER_HEADERS,
  STRIPPED_HEADERS,
  TRUNCATION_MARKER,
  triggerHeaders,
} from './trigger-headers';
export { type ParsedTrustedProxies, type TrustedProxies, parseTrustedProxies, sourceIp } from './source-ip';
export { type TriggerInput, type TriggerRequest, buildTriggerInput, parseQuery } from './trigger-input';
export {
  type IdempotencyKey,
  type IdempotencyKeyResult,
  type IdempotencyKeySource,
  IDEMPOTENCY_KEY_HEADERS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  idempotencyKeyOf,
} from './idempotency-key';
