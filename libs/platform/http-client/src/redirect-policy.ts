import type { HttpMethod } from './outbound-request';

/** What is sent on one hop. Header names are lower case (see normaliseRequestHeaders). */
export interface HopRequest {
  readonly method: HttpMethod;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

const FOLLOWED_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

// Headers that describe the body; they would lie once the body is dropped.
const BODY_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
  'transfer-encoding',
]);

// Credentials meant for one origin must not be handed to whatever origin it redirects to
// (same rule as fetch and curl); job headers routinely carry API keys.
const ORIGIN_BOUND_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** 300, 304 and 305 are answers in their own right and are returned to the caller, not followed. */
export function isFollowedRedirect(status: number): boolean {
  return FOLLOWED_STATUSES.has(status);
}

/**
 * The request to send to the next hop. 301/302/303 become a body-less GET (what every client does
 * in practice, whatever the original method); HEAD stays HEAD because turning it into GET would
 * download a body nobody asked for. 307/308 repeat the method and body unchanged.
 */
export function requestAfterRedirect(status: number, previous: HopRequest, from: URL, to: URL): HopRequest {
  const keepsMethod = status === 307 || status === 308 || previous.method === 'HEAD';
  const crossOrigin = from.origin !== to.origin;
  const headers = Object.fromEntries(
    Object.entries(previous.headers).filter(
      ([name]) => !(crossOrigin && ORIGIN_BOUND_HEADERS.has(name)) && (keepsMethod || !BODY_HEADERS.has(name)),
    ),
  );
  if (keepsMethod) return { method: previous.method, headers, ...(previous.body === undefined ? {} : { body: previous.body }) };
  return { method: 'GET', headers };
}
