import type { ExtractionSpec, StepSpec } from '@trigrun/execution-contracts';
import { jsonPath } from '@trigrun/templating';

/** Largest stored context value (docs/workflows.md: the store holds strings): longer extracted values are cut here. */
export const MAX_CONTEXT_VALUE_LENGTH = 64 * 1024;

export interface Extracted {
  /** Everything `extract` and `extract_to_context` found: merged into the execution's context. */
  readonly values: Record<string, unknown>;
  /** The `extract_to_context` part as the store keeps it: strings, non-strings as JSON text. */
  readonly contextUpdates: Record<string, string>;
}

/**
 * Reads a step's `extract` and `extract_to_context` paths from its result (the response body,
 * the resume payload or the decision). JSONPath is walked over data only: no script, no
 * prototype. A path that finds nothing sets nothing — a later template that needs the value
 * then fails with `template_error` naming it, which is where the absence matters.
 */
export function extractFrom(step: Pick<StepSpec, 'extract' | 'extract_to_context'>, source: unknown): Extracted {
  const values: Record<string, unknown> = {};
  const contextUpdates: Record<string, string> = {};
  const read = (spec: ExtractionSpec | undefined, persist: boolean) => {
    for (const [name, path] of Object.entries(spec ?? {})) {
      const found = jsonPath(source, path);
      if (!found.found || found.value === undefined) continue;
      define(values, name, found.value);
      if (persist) define(contextUpdates, name, asStoredString(found.value));
    }
  };
  read(step.extract, false);
  read(step.extract_to_context, true);
  return { values, contextUpdates };
}

export function asStoredString(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_CONTEXT_VALUE_LENGTH ? text.slice(0, MAX_CONTEXT_VALUE_LENGTH) : text;
}

/** An own data property even for a name like `__proto__`. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
