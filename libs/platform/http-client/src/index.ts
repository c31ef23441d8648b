export { classifyAddress, type AddressCategory } from './address-classification';
export { parseAllowlist, type Allowlist } from './allowlist';
export { checkDestination, type DestinationVerdict, type ResolvedAddress } from './destination-policy';
export { GuardedHttpClient } from './guarded-http-client';
export {
  HTTP_METHODS,
  type GuardedHttpClientOptions,
  type HttpMethod,
  type OutboundRequest,
  type OutboundResult,
} from './outbound-request';
export { isFollowedRedirect, requestAfterRedirect, type HopRequest } from './redirect-policy';
