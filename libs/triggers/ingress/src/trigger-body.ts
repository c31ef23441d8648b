import { MAX_STORED_JSON_DEPTH, storableParsed, storableText } from '@trigrun/execution-contracts';
import { type FormFields, parseFields } from './fields';
import { shapeProblem } from './json-shape';
import { bodyKindOf, mediaTypeOf } from './media-type';
import { type IngressRefusal, invalid, tooLarge } from './refusal';

/** A JSON value as JSON.parse makes it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a trigger body becomes: parsed JSON (`null` for an empty JSON body), a form's fields, or text. */
export type TriggerBody = JsonValue | FormFields;

export interface BodyLimits {
  /** Larger bodies are a 413. */
  readonly maxBodyBytes: number;
  /** Deeper JSON is a 400 (`[]` is 1, `{"a":[1]}` is 2). Keep it at most MAX_STORED_JSON_DEPTH: deeper values do not survive every layer. */
  readonly maxDepth: number;
  /** More object keys and array elements in all (JSON), or more fields (forms), is a 400. */
  readonly maxKeys: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = { maxBodyBytes: 1024 * 1024, maxDepth: MAX_STORED_JSON_DEPTH, maxKeys: 10_000 };

export type ParsedTriggerBody =
  | {
      readonly ok: true;
      readonly body: TriggerBody;
      /** The media type it was read as (`application/json`), or null when the header was absent or not a media type. */
      readonly contentType: string | null;
    }
  | IngressRefusal;

// Not fatal: bytes that are not UTF-8 become U+FFFD instead of an exception. A UTF-8 BOM is dropped.
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Reads a trigger request's raw body by its content type (README, "Bodies"):
 *
 * - `application/json` and `*\/*+json`: parsed; empty (or only whitespace) is `null`; text that
 *   does not parse is a 400, never kept as text (the sender said JSON: storing a string would
 *   hand every `{{trigger.body.x}}` a silent miss); deeper than `maxDepth` or with more than
 *   `maxKeys` members is a 400;
 * - `application/x-www-form-urlencoded`: an object of fields (a repeated field is an array of
 *   its values, in order; keys as sent); more than `maxKeys` fields is a 400;
 * - anything else, or no content type: the text.
 *
 * Bytes are read as UTF-8 whatever the charset says; what is not UTF-8 becomes U+FFFD. Every
 * string and key that comes out is storable (NUL and lone surrogates as U+FFFD, through the
 * contracts' storable* functions, docs/third-party-data.md), and keys such as `__proto__` and
 * `constructor` are own data properties of ordinary objects, as JSON.parse defines them: no
 * prototype is set or reached. Never throws.
 */
export function parseTriggerBody(raw: Uint8Array, contentType: string | undefined, limits: Partial<BodyLimits> = {}): ParsedTriggerBody {
  const { maxBodyBytes, maxDepth, maxKeys } = { ...DEFAULT_BODY_LIMITS, ...limits };
  if (raw.byteLength > maxBodyBytes) return tooLarge(`The body is larger than ${maxBodyBytes} bytes`);
  const mediaType = mediaTypeOf(contentType);
  const text = utf8.decode(raw);
  switch (bodyKindOf(mediaType)) {
    case 'json':
      return readJson(text, mediaType, maxDepth, maxKeys);
    case 'form': {
      const fields = parseFields(text, maxKeys);
      return fields === undefined ? invalid('body', `must have at most ${maxKeys} form fields`) : { ok: true, body: fields, contentType: mediaType };
    }
    case 'text':
      return { ok: true, body: storableText(text), contentType: mediaType };
  }
}

const JSON_WHITESPACE_ONLY = /^[ \t\r\n]*$/;

function readJson(text: string, mediaType: string | null, maxDepth: number, maxKeys: number): ParsedTriggerBody {
  if (JSON_WHITESPACE_ONLY.test(text)) return { ok: true, body: null, contentType: mediaType };
  let parsed: unknown;
  try {
    // V8's JSON.parse is iterative: any depth parses without a stack overflow, and is refused below.
    parsed = JSON.parse(text);
  } catch {
    // The parser's own message quotes the body; ours says what is wrong without echoing it.
    return invalid('body', `is not valid JSON (content-type ${mediaType})`);
  }
  const problem = shapeProblem(parsed, maxDepth, maxKeys);
  if (problem?.kind === 'too_deep') return invalid('body', `must not nest deeper than ${maxDepth} levels`);
  if (problem?.kind === 'too_many_members') return invalid('body', `must have at most ${maxKeys} keys and array elements in all`);
  // Within maxDepth, so storableParsed keeps the parsed value and only replaces NUL and lone surrogates.
  return { ok: true, body: storableParsed(parsed, text, maxDepth) as JsonValue, contentType: mediaType };
}
