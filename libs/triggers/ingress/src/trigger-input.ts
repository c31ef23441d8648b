import { storableText } from '@trigrun/execution-contracts';
import { type FormFields, parseFields } from './fields';
import type { TriggerBody } from './trigger-body';
import type { TriggerHeaders } from './trigger-headers';

/**
 * What a webhook-triggered execution carries as `trigger_input` (and templates read as
 * `{{trigger.*}}`). snake_case: it is shown on the API as it is stored.
 */
export interface TriggerInput {
  readonly method: string;
  readonly headers: TriggerHeaders;
  readonly query: FormFields;
  readonly body: TriggerBody;
  /** The media type the body was read as, or null. */
  readonly content_type: string | null;
  /** ISO 8601, UTC, milliseconds: `2026-03-01T12:00:00.000Z`. */
  readonly received_at: string;
  readonly source_ip: string | null;
}

export interface TriggerRequest {
  readonly method: string;
  /** From {@link triggerHeaders}: already stripped and bounded. */
  readonly headers: TriggerHeaders;
  /**
   * The request target as received (`/v1/triggers/<token>?a=1`, fastify's `req.url`): only what
   * follows its first `?` is read, so the token in the path never reaches the record.
   */
  readonly url: string;
  /** From a successful {@link parseTriggerBody}. */
  readonly body: TriggerBody;
  readonly contentType: string | null;
  /** The caller's clock: this lib reads none. Must be a valid Date. */
  readonly receivedAt: Date;
  /** From {@link sourceIp}. */
  readonly sourceIp: string | null;
}

/**
 * The `trigger_input` of one inbound request. The query follows the form rule (a repeated
 * parameter is an array of its values, in order; keys as sent, no `a[b]` nesting; storable
 * strings). The query is not capped here: the server's 16 KiB limit on the request line bounds it.
 */
export function buildTriggerInput(request: TriggerRequest): TriggerInput {
  return {
    method: storableText(request.method.toUpperCase()),
    headers: request.headers,
    query: parseQuery(request.url),
    body: request.body,
    content_type: request.contentType,
    received_at: request.receivedAt.toISOString(),
    source_ip: request.sourceIp,
  };
}

/**
 * The query of a request target: `/hook?a=1&a=2&b=` → `{a: ["1", "2"], b: ""}`; `{}` without a
 * `?`. A `#fragment` (which clients do not send, but anyone may) is not part of the query.
 */
export function parseQuery(url: string): FormFields {
  const mark = url.indexOf('?');
  if (mark === -1) return {};
  const hash = url.indexOf('#', mark);
  // No field limit is passed, so parseFields always answers.
  return parseFields(url.slice(mark + 1, hash === -1 ? undefined : hash))!;
}
