import { childOf, childrenOf, elementAt, type Lookup, NOT_FOUND } from './own-property';

/**
 * A JSONPath subset for reading values out of JSON (docs/workflows.md extraction, docs/jobs.md matching and output
 * templates). Evaluation is a walk over data: there are no filters, scripts or functions, so
 * nothing a user writes is ever executed.
 *
 *   path     := "$" segment*                       at most 512 characters
 *   segment  := "." name                            $.order.id, $.x-source, $.items.0 (see below)
 *             | ".*"                                every child
 *             | "[" ws* selector ws* "]"
 *   selector := integer                             $.items[0], $.items[-1] (from the end)
 *             | "*"                                 $.items[*]
 *             | "'" chars "'" | '"' chars '"'       $['key with space'], escapes \\ \' \" \/ \b \f \n \r \t \uXXXX
 *   name     := [A-Za-z0-9_-]+
 *
 * Not supported (a JsonPathSyntaxError says so): recursive descent `..`, filters `[?(…)]`,
 * script expressions `[(…)]`, unions `[0,1]` and slices `[0:2]`.
 *
 * Results: without a wildcard the path names at most one value: `{found, value}`. With a
 * wildcard the value is the array of every match, in document order; no match at all is "not
 * found". Steps follow own-property.ts: own enumerable properties of plain objects and array
 * elements only; `__proto__`, `constructor` and `prototype` never match. A dotted numeric name
 * indexes an array like `[n]` does, as in templates (`$.items.0.id`).
 */

export type JsonPathSegment =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'wildcard' };

export interface ParsedJsonPath {
  readonly source: string;
  readonly segments: readonly JsonPathSegment[];
  /** False when a wildcard makes the result a list. */
  readonly singular: boolean;
}

export const MAX_JSON_PATH_LENGTH = 512;

export class JsonPathSyntaxError extends Error {
  readonly code = 'invalid_json_path';

  constructor(
    readonly path: string,
    readonly position: number,
    readonly reason: string,
  ) {
    super(`invalid JSONPath ${JSON.stringify(path)}: ${reason} at position ${position}`);
    this.name = 'JsonPathSyntaxError';
  }
}

const NAME_CHAR = /[A-Za-z0-9_-]/;
const INTEGER = /^-?(?:0|[1-9][0-9]*)/;
const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

export function parseJsonPath(path: string): ParsedJsonPath {
  if (typeof path !== 'string') throw new JsonPathSyntaxError(String(path), 0, 'a path must be a string');
  if (path.length > MAX_JSON_PATH_LENGTH) throw new JsonPathSyntaxError(path.slice(0, 40) + '…', MAX_JSON_PATH_LENGTH, `a path has at most ${MAX_JSON_PATH_LENGTH} characters`);
  const fail = (at: number, reason: string): never => {
    throw new JsonPathSyntaxError(path, at, reason);
  };
  if (path[0] !== '$') fail(0, "a path starts with '$'");
  const segments: JsonPathSegment[] = [];
  let i = 1;
  const skipSpaces = () => {
    while (path[i] === ' ' || path[i] === '\t') i++;
  };
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      i++;
      if (path[i] === '.') fail(i - 1, 'recursive descent (..) is not supported');
      if (path[i] === '*') {
        segments.push({ kind: 'wildcard' });
        i++;
        continue;
      }
      const start = i;
      while (i < path.length && NAME_CHAR.test(path[i])) i++;
      if (i === start) fail(i, "expected a name after '.' (use ['…'] for other keys)");
      segments.push({ kind: 'key', key: path.slice(start, i) });
    } else if (c === '[') {
      i++;
      skipSpaces();
      const s = path[i];
      if (s === '*') {
        segments.push({ kind: 'wildcard' });
        i++;
      } else if (s === "'" || s === '"') {
        segments.push({ kind: 'key', key: readQuoted(s) });
      } else if (s === '?') {
        fail(i, 'filter expressions are not supported');
      } else if (s === '(') {
        fail(i, 'script expressions are not supported');
      } else {
        const digits = INTEGER.exec(path.slice(i));
        if (!digits || digits[0] === '-0') fail(i, "expected an index, '*' or a quoted key");
        const index = Number(digits![0]);
        if (!Number.isSafeInteger(index)) fail(i, 'index is too large');
        segments.push({ kind: 'index', index });
        i += digits![0].length;
      }
      skipSpaces();
      if (path[i] === ',') fail(i, 'unions are not supported');
      if (path[i] === ':') fail(i, 'slices are not supported');
      if (path[i] !== ']') fail(i, "expected ']'");
      i++;
    } else {
      fail(i, `unexpected ${JSON.stringify(c)}`);
    }
  }
  return { source: path, segments, singular: segments.every((s) => s.kind !== 'wildcard') };

  function readQuoted(quote: string): string {
    let out = '';
    i++;
    while (i < path.length && path[i] !== quote) {
      if (path[i] === '\\') {
        const e = path[i + 1];
        if (e === 'u' && /^[0-9A-Fa-f]{4}$/.test(path.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(path.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
        if (e === undefined || !(e in ESCAPES)) fail(i, 'invalid escape');
        out += ESCAPES[e];
        i += 2;
      } else {
        out += path[i++];
      }
    }
    if (i >= path.length) fail(i, 'unterminated quoted key');
    i++;
    return out;
  }
}

/** Reads a path (text or parsed) from a JSON value. Throws JsonPathSyntaxError for a bad path. */
export function jsonPath(value: unknown, path: string | ParsedJsonPath): Lookup {
  const parsed = typeof path === 'string' ? parseJsonPath(path) : path;
  let nodes: unknown[] = [value];
  for (const segment of parsed.segments) {
    const next: unknown[] = [];
    for (const node of nodes) {
      if (segment.kind === 'wildcard') next.push(...childrenOf(node));
      else push(next, segment.kind === 'key' ? childOf(node, segment.key) : Array.isArray(node) ? elementAt(node, segment.index) : NOT_FOUND);
    }
    nodes = next;
    if (nodes.length === 0) return NOT_FOUND;
  }
  return parsed.singular ? { found: true, value: nodes[0] } : { found: true, value: nodes };
}

const push = (into: unknown[], lookup: Lookup) => {
  if (lookup.found) into.push(lookup.value);
};
