import type { ResolvedAddress } from './destination-policy';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface OutboundRequest {
  /** http or https only; anything else resolves to `invalid_url`. */
  url: string;
  method: HttpMethod;
  /** A `Host` header is ignored: it always names the URL's host, the one that was checked. */
  headers?: Record<string, string>;
  /** Sent as-is. */
  body?: string | Buffer;
  /** Whole-request deadline: DNS, connect, every redirect hop and the body read. */
  timeoutMs: number;
  /** Default 5. 301/302/303 continue as GET without body, 307/308 keep method and body. */
  maxRedirects?: number;
  /** Default 1 MiB. Bytes beyond it are dropped (`truncated: true`); the request still succeeds. */
  maxResponseBytes?: number;
  signal?: AbortSignal;
}

export type OutboundResult =
  | {
      kind: 'response';
      status: number;
      /** Lower-case names; repeated headers joined with ", ". */
      headers: Record<string, string>;
      body: Buffer;
      truncated: boolean;
      latencyMs: number;
      /** The URL that produced this response, credentials removed. */
      finalUrl: string;
      redirects: number;
    }
  | { kind: 'timeout'; message: string; latencyMs: number }
  /** DNS failure, refused, reset, TLS error, too many or invalid redirects, caller abort (`code: 'ABORTED'`). */
  | { kind: 'connection_error'; message: string; code?: string; latencyMs: number }
  /** Refused by the outbound policy before any connection was made to `address`. */
  | { kind: 'blocked'; message: string; address?: string; latencyMs: number }
  | { kind: 'invalid_url'; message: string; latencyMs: 0 };

export interface GuardedHttpClientOptions {
  /** The operator's allow-list setting, see parseAllowlist. Parsed (and validated) in the constructor. */
  allowlist?: string;
  /** Default `TrigRun`; a `user-agent` request header wins over it. */
  userAgent?: string;
  /** Name resolution, replaceable for tests. Default: `dns.lookup` with `all: true`. */
  lookup?: (host: string) => Promise<ResolvedAddress[]>;
}
