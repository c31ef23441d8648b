import { isPlainObject } from '@trigrun/templating';

/** Structural equality of JSON values: key order is ignored, array order is not. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * A short JSON rendering for rule texts. Bounded in length and depth, so an echoed megabyte (or
 * a deeply nested response) neither floods the attempt record nor exhausts the stack.
 */
export function preview(value: unknown, maxLength = 100): string {
  const text = compact(value, 0, maxLength + 1);
  return text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
}

function compact(value: unknown, depth: number, budget: number): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > budget ? value.slice(0, budget) : value);
  if (typeof value !== 'object' || value === null) return String(value);
  const isArray = Array.isArray(value);
  if (depth >= 8) return isArray ? '[…]' : '{…}';
  let out = isArray ? '[' : '{';
  const keys = isArray ? undefined : Object.keys(value);
  const count = isArray ? (value as unknown[]).length : keys!.length;
  for (let i = 0; i < count && out.length <= budget; i++) {
    if (i > 0) out += ',';
    const item = isArray ? (value as unknown[])[i] : (value as Record<string, unknown>)[keys![i]];
    if (keys) out += `${JSON.stringify(keys[i])}:`;
    out += compact(item, depth + 1, budget - out.length);
  }
  return out + (isArray ? ']' : '}');
}
