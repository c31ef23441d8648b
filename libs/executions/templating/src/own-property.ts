/**
 * The only way templates and JSONPath step into a value. Data is walked, never code: a step
 * succeeds only into an array element (canonical index) or an own enumerable property of a plain
 * object, so `constructor`, `__proto__`, `length`, getters on class instances and anything on a
 * prototype stay out of reach.
 */

/** Never resolve, even as an own property (JSON.parse makes `"__proto__"` an own key). */
export const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const CANONICAL_INDEX = /^(?:0|[1-9][0-9]*)$/;

export type Lookup = { found: true; value: unknown } | { found: false };
export const NOT_FOUND: Lookup = Object.freeze({ found: false });

/** `{}` or `Object.create(null)`, from any realm; class instances, Maps, Dates are not plain. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

export function childOf(container: unknown, key: string): Lookup {
  if (FORBIDDEN_SEGMENTS.has(key)) return NOT_FOUND;
  if (Array.isArray(container)) {
    if (!CANONICAL_INDEX.test(key)) return NOT_FOUND;
    return elementAt(container, Number(key));
  }
  if (isPlainObject(container) && Object.prototype.propertyIsEnumerable.call(container, key)) {
    const value = container[key];
    return value === undefined ? NOT_FOUND : { found: true, value };
  }
  return NOT_FOUND;
}

/** Negative indexes count from the end (`-1` is the last element). */
export function elementAt(array: readonly unknown[], index: number): Lookup {
  const at = index < 0 ? array.length + index : index;
  if (!Number.isSafeInteger(at) || at < 0 || at >= array.length || !(at in array)) return NOT_FOUND;
  const value = array[at];
  return value === undefined ? NOT_FOUND : { found: true, value };
}

/** Own enumerable values of a plain object (minus forbidden keys) or an array's elements. */
export function childrenOf(container: unknown): unknown[] {
  if (Array.isArray(container)) return container.filter((v) => v !== undefined);
  if (isPlainObject(container)) {
    return Object.keys(container)
      .filter((k) => !FORBIDDEN_SEGMENTS.has(k) && container[k] !== undefined)
      .map((k) => container[k]);
  }
  return [];
}
