import { storableText } from '@trigrun/execution-contracts';

/** A form body or a query string as an object: one string per field, or every value in order when a field repeats. */
export type FormFields = Record<string, string | string[]>;

/**
 * `a=1&b=x+y&a=2` → `{a: ["1", "2"], b: "x y"}`. Keys are kept as sent (`a[b]` is the key
 * `a[b]`: no nesting), in the order they first appear. `URLSearchParams` decodes the escapes, and
 * never throws: a malformed escape (`%zz`) stays as it is, bytes that are not UTF-8 become U+FFFD;
 * NUL and lone surrogates become U+FFFD here, so every key and value is storable.
 *
 * The object is built with `Object.fromEntries`, which defines own properties, so a field named
 * `__proto__` is an ordinary key and no prototype is touched.
 *
 * `undefined` when there are more than `maxFields` values: counted before anything is kept, so a
 * megabyte of `&a&a&a` costs one pass.
 */
export function parseFields(text: string, maxFields = Number.POSITIVE_INFINITY): FormFields | undefined {
  const params = new URLSearchParams(text);
  if (params.size > maxFields) return undefined;
  const fields = new Map<string, string | string[]>();
  for (const [rawKey, rawValue] of params) {
    const key = storableText(rawKey);
    const value = storableText(rawValue);
    const seen = fields.get(key);
    if (seen === undefined) fields.set(key, value);
    else if (Array.isArray(seen)) seen.push(value);
    else fields.set(key, [seen, value]);
  }
  return Object.fromEntries(fields);
}
