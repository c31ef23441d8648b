import { FORBIDDEN_SEGMENTS, isPlainObject } from '@trigrun/templating';
import type { Problem } from './job-definition';

/**
 * A job's persisted context store (docs/workflows.md): string keys to string values, seeded into each new
 * execution's `context`. A PATCH is a flat object of changes: a string sets the key, null deletes it.
 */
export type ContextChanges = Readonly<Record<string, string | null>>;

export const MAX_CONTEXT_KEY_LENGTH = 128;
export const MAX_CONTEXT_KEYS_PER_PATCH = 1000;
/** Per value, in UTF-8 bytes. The request body limit (1 MiB) bounds a whole PATCH. */
export const MAX_CONTEXT_VALUE_BYTES = 64 * 1024;

const utf8 = new TextEncoder();

/** Validates a PATCH body; each problem's `field` is the offending key, whole-body problems name `body`. */
export function normalizeContextPatch(input: unknown): { value?: ContextChanges; problems: Problem[] } {
  if (!isPlainObject(input)) return { problems: [{ field: 'body', message: 'must be a JSON object of keys to string values (or null to delete a key)' }] };
  const entries = Object.entries(input);
  if (entries.length > MAX_CONTEXT_KEYS_PER_PATCH) return { problems: [{ field: 'body', message: `must have at most ${MAX_CONTEXT_KEYS_PER_PATCH} keys` }] };
  const problems: Problem[] = [];
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > MAX_CONTEXT_KEY_LENGTH) {
      problems.push({ field: key.length === 0 ? '""' : `${key.slice(0, MAX_CONTEXT_KEY_LENGTH)}…`, message: `is not a valid key: keys are 1 to ${MAX_CONTEXT_KEY_LENGTH} characters` });
    } else if (FORBIDDEN_SEGMENTS.has(key)) {
      problems.push({ field: key, message: 'is a reserved name' });
    } else if (value !== null && typeof value !== 'string') {
      problems.push({ field: key, message: `must be a string, or null to delete the key (got ${describe(value)}); store other values as JSON text` });
    } else if (typeof value === 'string' && value.length * 3 > MAX_CONTEXT_VALUE_BYTES && utf8.encode(value).length > MAX_CONTEXT_VALUE_BYTES) {
      problems.push({ field: key, message: `must be at most ${MAX_CONTEXT_VALUE_BYTES / 1024} KiB (UTF-8)` });
    }
  }
  // fromEntries defines own properties: a "__proto__" key could never reach a prototype anyway.
  return problems.length > 0 ? { problems } : { value: Object.fromEntries(entries as [string, string | null][]), problems };
}

const describe = (value: unknown) => (Array.isArray(value) ? 'an array' : value === undefined ? 'nothing' : typeof value === 'object' ? 'an object' : `a ${typeof value}`);
