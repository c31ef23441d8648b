import { jsonPath } from '@trigrun/templating';
import { deepEqual, preview } from './json-value';
import { linearRegexEngine } from './linear-regex-engine';
import { PatternInputTooLongError, type RegexEngine, UnsafePatternError } from './regex-engine';
import type { Assertion, MatchResult, ResponseForMatching, ResponseMatcher } from './response-matcher';

/**
 * Runs a normalized matcher against a response (docs/jobs.md). The caller has already checked the
 * status against success_statuses; this answers only "does every rule pass?". Rules run in
 * order — body_contains, body_not_contains, then assertions — and the first failure is named,
 * e.g. `assertions[1]: $.status eq "ok" (got "fail")`, for the MATCH_FAILED attempt.
 *
 * Semantics:
 * - json: the body parsed as JSON, the path read with @trigrun/templating's jsonPath. A body that
 *   is not JSON fails every json rule ("body is not JSON"), not_exists included.
 * - header: looked up lower-case (response header names are lower-case); status: the number;
 *   body: the raw text.
 * - A missing value (path not found, header absent) fails every op except not_exists.
 * - eq/neq/in: JSON deep equality (key order ignored). Header and body are strings, status a
 *   number; normalizeMatcher makes the expected value the same type, so `"200"` never equals 200.
 * - contains/not_contains: substring on strings, element membership (deep equality) on arrays;
 *   any other actual type fails both.
 * - matches: strings as they are, numbers and booleans as their text (`status matches "^2"`);
 *   objects, arrays and null fail. Run by the RegexEngine; text longer than the pattern may
 *   test fails the rule (see linear-regex-engine.ts).
 * - gt/gte/lt/lte: a JSON number or status; header/body text that is exactly a decimal number
 *   (`x-ratelimit-remaining`) is read as one. Anything else fails.
 */
export function evaluateMatcher(matcher: ResponseMatcher, response: ResponseForMatching, regex: RegexEngine = linearRegexEngine): MatchResult {
  if (matcher.body_contains !== undefined && !response.body.includes(matcher.body_contains)) {
    return { ok: false, rule: `body_contains ${preview(matcher.body_contains)}` };
  }
  if (matcher.body_not_contains !== undefined && response.body.includes(matcher.body_not_contains)) {
    return { ok: false, rule: `body_not_contains ${preview(matcher.body_not_contains)}` };
  }
  const json = lazyJson(response.body);
  const assertions = matcher.assertions ?? [];
  for (let i = 0; i < assertions.length; i++) {
    const why = failure(assertions[i], response, json, regex);
    if (why !== undefined) return { ok: false, rule: `assertions[${i}]: ${describeAssertion(assertions[i])} (${why})` };
  }
  return { ok: true };
}

/** `$.status eq "ok"`, `header content-type contains "json"`, `status in [200,201]`, `body matches "^OK"`. */
export function describeAssertion(a: Assertion): string {
  const subject = a.source === 'json' ? a.path : a.source === 'header' ? `header ${a.name}` : a.source;
  return a.value === undefined ? `${subject} ${a.op}` : `${subject} ${a.op} ${preview(a.value)}`;
}

type Actual = { readonly kind: 'value'; readonly value: unknown } | { readonly kind: 'missing' } | { readonly kind: 'not_json' };
const MISSING: Actual = { kind: 'missing' };
const NOT_JSON: Actual = { kind: 'not_json' };

function lazyJson(body: string): () => Actual {
  let parsed: Actual | undefined;
  return () => {
    if (parsed === undefined) {
      try {
        parsed = { kind: 'value', value: JSON.parse(body) as unknown };
      } catch {
        parsed = NOT_JSON;
      }
    }
    return parsed;
  };
}

function actualOf(a: Assertion, response: ResponseForMatching, json: () => Actual): Actual {
  switch (a.source) {
    case 'json': {
      const root = json();
      if (root.kind !== 'value') return root;
      const found = jsonPath(root.value, a.path!);
      return found.found ? { kind: 'value', value: found.value } : MISSING;
    }
    case 'header': {
      const name = a.name!.toLowerCase();
      // hasOwnProperty: a header named `constructor` must not find Object's.
      return Object.prototype.hasOwnProperty.call(response.headers, name) ? { kind: 'value', value: response.headers[name] } : MISSING;
    }
    case 'status':
      return { kind: 'value', value: response.status };
    case 'body':
      return { kind: 'value', value: response.body };
    default:
      return exhaustive(a.source);
  }
}

/** Undefined when the assertion passes; otherwise why it failed, for the rule text. */
function failure(a: Assertion, response: ResponseForMatching, json: () => Actual, regex: RegexEngine): string | undefined {
  const actual = actualOf(a, response, json);
  if (actual.kind === 'not_json') return 'body is not JSON';
  if (actual.kind === 'missing') return a.op === 'not_exists' ? undefined : 'missing';
  const value = actual.value;
  const got = `got ${preview(value)}`;
  const pass = (ok: boolean) => (ok ? undefined : got);
  switch (a.op) {
    case 'exists':
      return undefined;
    case 'not_exists':
      return got;
    case 'eq':
      return pass(deepEqual(value, a.value));
    case 'neq':
      return pass(!deepEqual(value, a.value));
    case 'in':
      return pass(Array.isArray(a.value) && a.value.some((candidate) => deepEqual(value, candidate)));
    case 'contains':
    case 'not_contains': {
      const contained = contains(value, a.value);
      if (contained === undefined) return got;
      return pass(a.op === 'contains' ? contained : !contained);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const n = numberOf(value, a.source);
      const limit = a.value as number;
      if (n === undefined) return got;
      return pass(a.op === 'gt' ? n > limit : a.op === 'gte' ? n >= limit : a.op === 'lt' ? n < limit : n <= limit);
    }
    case 'matches': {
      const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
      if (text === undefined) return got;
      try {
        return pass(regex.compile(a.value as string).test(text));
      } catch (error) {
        if (error instanceof PatternInputTooLongError) return `got ${error.length} characters; this pattern tests at most ${error.maxInputLength}`;
        if (error instanceof UnsafePatternError) return `pattern ${error.reason}`;
        throw error;
      }
    }
    default:
      return exhaustive(a.op);
  }
}

/** Substring or element membership; undefined when the actual value cannot contain anything. */
function contains(value: unknown, needle: unknown): boolean | undefined {
  if (typeof value === 'string') return typeof needle === 'string' ? value.includes(needle) : false;
  if (Array.isArray(value)) return value.some((item) => deepEqual(item, needle));
  return undefined;
}

const DECIMAL = /^\s*-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function numberOf(value: unknown, source: Assertion['source']): number | undefined {
  if (typeof value === 'number') return value;
  if ((source === 'header' || source === 'body') && typeof value === 'string' && DECIMAL.test(value)) return Number(value);
  return undefined;
}

function exhaustive(value: never): never {
  throw new Error(`unhandled ${String(value)}`);
}
