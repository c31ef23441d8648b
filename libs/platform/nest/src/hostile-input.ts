import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, type FieldProblem } from './api-error';

/**
 * Objects and arrays nested deeper than this (the body itself is level 1) are refused with a 400
 * before any code walks the body: class-transformer, class-validator and most JSON helpers
 * recurse, so a 2,000-deep body overflowed the stack in the validation step (a 500). Real
 * payloads nest a handful of levels; 64 leaves room for any API body.
 */
export const MAX_JSON_DEPTH = 64;

/** Route config key set by AcceptsAnyText(). */
const ANY_TEXT = 'trigrunAcceptsAnyText';

/**
 * Exempts a route's body from the text check (not from the depth limit): for endpoints that take
 * whatever a third party sends and store it in a form every layer accepts themselves (the resume
 * endpoint). Goes on the handler method: fastify reads route config per handler.
 */
export const AcceptsAnyText = () => RouteConfig({ [ANY_TEXT]: true });

// A NUL, or a surrogate half without its other half. Written with escapes on purpose: no `u` flag,
// so the class matches UTF-16 code units and a lone half is visible to the lookarounds.
// eslint-disable-next-line no-control-regex
const UNPAIRED = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Why `text` cannot be stored, or null. PostgreSQL `text` and `jsonb` refuse U+0000 outright
 * (jsonb also refuses the `\u0000` escape), and a lone UTF-16 surrogate is not Unicode text: it
 * cannot be encoded to UTF-8 faithfully (Node writes U+FFFD), so what was stored would not be
 * what was sent. Every stored string of the API passes here, so no field needs its own check.
 */
export function unstorableText(text: string): string | null {
  const found = UNPAIRED.exec(text);
  if (!found) return null;
  return found[0] === '\u0000'
    ? 'contains a NUL character (U+0000), which cannot be stored'
    : `contains a lone UTF-16 surrogate (U+${found[0].charCodeAt(0).toString(16).toUpperCase()}), which is not text`;
}

/** `a.b[0]`-style paths, as class-validator's problems are named; odd keys are quoted and cut. */
function childPath(path: string, key: string): string {
  if (/^[A-Za-z_$][\w$-]{0,63}$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key)}]`;
}

/** What JSON.parse makes: arrays, and objects whose prototype is an Object.prototype (of any realm) or null. */
const isPlain = (value: object) => {
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
};

/**
 * The first problem of a parsed body: nesting past `maxDepth`, or (with `text`) a string or key
 * that cannot be stored. Iterative, with its own stack, so no depth can overflow it. Only plain
 * JSON values are walked (a proxied body stays a Buffer).
 */
export function inspectBody(body: unknown, opts: { readonly maxDepth?: number; readonly text: boolean }): FieldProblem | null {
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: body, path: '', depth: 1 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const why = opts.text ? unstorableText(value) : null;
      if (why) return { field: path || 'body', message: why };
      continue;
    }
    if (value === null || typeof value !== 'object' || !isPlain(value)) continue;
    if (depth > maxDepth) return { field: 'body', message: `nests objects and arrays deeper than ${maxDepth} levels` };
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: `${path}[${i}]`, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      const at = childPath(path, key);
      const why = opts.text ? unstorableText(key) : null;
      if (why) return { field: at, message: `is a key that ${why}` };
      stack.push({ value: (value as Record<string, unknown>)[key], path: at, depth: depth + 1 });
    }
  }
  return null;
}

/** Problems of the query string and path parameters: text that cannot be stored, control characters in ids. */
export function inspectUrl(query: unknown, params: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const [name, raw] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    const why = unstorableText(name) ?? [raw].flat().map((v) => (typeof v === 'string' ? unstorableText(v) : null)).find(Boolean);
    if (why) problems.push({ field: childPath('query', name), message: why });
  }
  for (const [name, value] of Object.entries((params ?? {}) as Record<string, unknown>)) {
    // Ids and tokens are ASCII; a control character there (`%00`, `%0A`) is never one.
    if (typeof value === 'string' && (CONTROL.test(value) || unstorableText(value))) {
      problems.push({ field: name === '*' ? 'path' : name, message: 'must not contain control characters or lone surrogates' });
    }
  }
  return problems;
}

/**
 * Installs the guard on every route of `fastify`, whatever parser produced the body: it runs in
 * preValidation, after parsing and before Nest's guards, pipes and handlers see the request.
 * Parsing itself cannot overflow (V8's JSON.parse and fastify's prototype-poisoning scan are
 * iterative); everything after it may, so the depth is checked first, once, here.
 */
export function installHostileInputGuard(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', async (request: FastifyRequest) => {
    const config = (request.routeOptions?.config ?? {}) as unknown as Record<string, unknown>;
    const urlProblems = inspectUrl(request.query, request.params);
    if (urlProblems.length > 0) throw ApiError.validation(urlProblems);
    const bodyProblem = inspectBody(request.body, { text: config[ANY_TEXT] !== true });
    if (bodyProblem) throw ApiError.validation([bodyProblem], `The request body ${bodyProblem.field === 'body' ? '' : `field ${bodyProblem.field} `}${bodyProblem.message}`);
  });
}
