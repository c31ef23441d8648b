import { childOf, isPlainObject, NOT_FOUND, type Lookup } from './own-property';

/**
 * What templates read. Request jobs: `{ timestamp, uuid, execution_id }`; workflow steps add
 * `context` and `trigger`. Values are JSON data (a Date is accepted and rendered as ISO-8601);
 * the shell stamps them once and records them, so every retry renders the same text.
 */
export type Scope = Readonly<Record<string, unknown>>;

/** Resolves a dot path in the scope. Anything that is not JSON data (functions, Maps, class instances) is missing. */
export function lookupVariable(scope: Scope, path: string): Lookup {
  let current: Lookup = { found: true, value: scope };
  for (const segment of path.split('.')) {
    current = childOf(current.value, segment);
    if (!current.found) return NOT_FOUND;
  }
  return isRenderable(current.value) ? current : NOT_FOUND;
}

function isRenderable(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return true;
    case 'object':
      return value === null || Array.isArray(value) || isPlainObject(value) || value instanceof Date;
    default:
      return false;
  }
}

/** Text form of a value inside a larger string: strings as they are, objects and arrays as JSON. */
export function toText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (value === null) return 'null';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The value a type-preserving leaf takes: the JSON value itself (shared, not copied: scope data is read-only). */
export const toJsonValue = (value: unknown): unknown =>
  value instanceof Date ? value.toISOString() : typeof value === 'bigint' ? value.toString() : value;
