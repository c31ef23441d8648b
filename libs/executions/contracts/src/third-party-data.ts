/**
 * Third-party data made storable where it enters (docs/third-party-data.md). Every layer after the
 * edge — JetStream events, the engine's JSON, PostgreSQL `jsonb` and `text` — then accepts it:
 *
 * - every NUL (U+0000) and every lone UTF-16 surrogate becomes U+FFFD, in values and in keys
 *   (PostgreSQL refuses NUL in `text` and `\u0000` in `jsonb`, and `jsonb` refuses an unpaired
 *   `\ud800`); paired surrogates (emoji) are kept;
 * - JSON nested deeper than MAX_STORED_JSON_DEPTH is not kept as a parsed value but as its text, so
 *   extraction finds nothing in it (JSON.stringify, validation and `jsonb` all recurse, and stop
 *   somewhere between 2,000 and 10,000 levels with a stack overflow).
 *
 * Hand-written and iterative on purpose: a library walk (or a recursive one) is exactly what a
 * 20,000-deep body overflows. Every function here uses its own stack, so any depth is safe.
 */

/** Deepest JSON kept as a parsed value: `[]` and `{}` are depth 1, `{"a":[1]}` is depth 2. */
export const MAX_STORED_JSON_DEPTH = 64;

const REPLACEMENT = '\uFFFD';
// ES2024's String.prototype.toWellFormed (Node 20): the lib setting of this repository is ES2023.
const toWellFormed = (String.prototype as unknown as { toWellFormed: (this: string) => string }).toWellFormed;
const isWellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed;

/** The text with every NUL and every lone surrogate replaced by U+FFFD; the same string when there is none. */
export function storableText(text: string): string {
  const formed = isWellFormed.call(text) ? text : toWellFormed.call(text);
  return formed.includes('\u0000') ? formed.replaceAll('\u0000', REPLACEMENT) : formed;
}

/** How deep a JSON value nests (0 for a scalar), counted without recursion; stops once past `limit`. */
export function jsonDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return deepest;
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push({ value: child, depth: here });
  }
  return deepest;
}

/**
 * A JSON value in its storable form, for values that arrive without their text (an output, an
 * event read back): strings and keys through `storableText`, `undefined` in arrays as `null` and in
 * objects dropped (as JSON would), and every array or object at a level below `maxDepth` as its
 * JSON text (a string, itself storable) — the levels above it stay as they are. Always a fresh
 * copy; keys such as `__proto__` stay own data.
 */
export function storableValue(value: unknown, maxDepth = MAX_STORED_JSON_DEPTH): unknown {
  return copyStorable(value, maxDepth);
}

/**
 * A body as text, in the form the engine keeps it: `null` when empty, the parsed value when it is
 * JSON no deeper than `maxDepth` (made storable), otherwise the text itself (made storable).
 */
export function storableJson(text: string, maxDepth = MAX_STORED_JSON_DEPTH): unknown {
  if (text.length === 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    return storableText(text);
  }
  return storableParsed(parsed, text, maxDepth);
}

/** A value already parsed from `text` (by a stricter parser, say), with the same depth rule as storableJson. */
export function storableParsed(parsed: unknown, text: string, maxDepth = MAX_STORED_JSON_DEPTH): unknown {
  // The common case, decided on the text alone (a few ms per MiB, where copying the value costs
  // tens): nothing to replace, so the parsed value is already storable as it is.
  if (storableText(text) === text && !UNSTORABLE_ESCAPE.test(text)) return textDepth(text) > maxDepth ? text : parsed;
  if (jsonDepth(parsed, maxDepth) > maxDepth) return storableText(text);
  return copyStorable(parsed, maxDepth);
}

/** A JSON escape that decodes to NUL or to a surrogate (paired or not: pairs are rare, and the copy keeps them). */
const UNSTORABLE_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;

/** How deep the brackets of JSON text nest, strings skipped: the depth of what it parses to. */
function textDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

function copyStorable(root: unknown, maxDepth: number): unknown {
  const holder: { value?: unknown } = {};
  type Frame = { source: unknown; target: Record<string | number, unknown>; key: string | number; level: number };
  const stack: Frame[] = [{ source: root, target: holder, key: 'value', level: 1 }];
  while (stack.length > 0) {
    const { source, target, key, level } = stack.pop()!;
    let copy: unknown;
    if (typeof source === 'string') copy = storableText(source);
    else if (source !== null && typeof source === 'object' && level > maxDepth) copy = storableText(jsonText(source));
    else if (Array.isArray(source)) {
      const list: unknown[] = new Array<unknown>(source.length).fill(null);
      source.forEach((item, i) => item !== undefined && stack.push({ source: item, target: list as unknown as Record<number, unknown>, key: i, level: level + 1 }));
      copy = list;
    } else if (source !== null && typeof source === 'object') {
      const object: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(source)) {
        if (v === undefined) continue;
        const name = storableText(k);
        // Placed now so the copy keeps the key order; two keys that differ only in what was
        // replaced collapse into one (the later wins, as with duplicate keys in JSON).
        define(object, name, null);
        stack.push({ source: v, target: object, key: name, level: level + 1 });
      }
      copy = object;
    } else if (typeof source === 'number') copy = Number.isFinite(source) ? source : null;
    else if (typeof source === 'boolean' || source === null) copy = source;
    else copy = null;
    define(target, key, copy);
  }
  return holder.value;
}

/** An own data property even for a name like `__proto__` (which plain assignment would turn into a prototype). */
function define(target: Record<string | number, unknown>, key: string | number, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Punctuation waiting on jsonText's stack: never confused with data, which holds no Token. */
class Token {
  constructor(readonly text: string) {}
}
const CLOSE_ARRAY = new Token(']');
const CLOSE_OBJECT = new Token('}');
const COMMA = new Token(',');

/** JSON.stringify without recursion (same output for JSON values), so any depth can be written out. */
export function jsonText(root: unknown): string {
  const parts: string[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item instanceof Token) {
      parts.push(item.text);
      continue;
    }
    if (Array.isArray(item)) {
      parts.push('[');
      stack.push(CLOSE_ARRAY);
      for (let i = item.length - 1; i >= 0; i--) {
        const v = item[i] as unknown;
        stack.push(v === undefined || typeof v === 'function' ? null : v);
        if (i > 0) stack.push(COMMA);
      }
    } else if (item !== null && typeof item === 'object') {
      parts.push('{');
      stack.push(CLOSE_OBJECT);
      const entries = Object.entries(item).filter(([, v]) => v !== undefined && typeof v !== 'function');
      for (let i = entries.length - 1; i >= 0; i--) {
        stack.push(entries[i][1]);
        stack.push(new Token(`${JSON.stringify(entries[i][0])}:`));
        if (i > 0) stack.push(COMMA);
      }
    } else {
      parts.push(JSON.stringify(item) ?? 'null');
    }
  }
  return parts.join('');
}
