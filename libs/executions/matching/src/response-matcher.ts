/** `response_matcher` (docs/jobs.md), as stored after normalizeMatcher. */
export type AssertionSource = 'json' | 'header' | 'status' | 'body';
export type AssertionOp = 'eq' | 'neq' | 'contains' | 'not_contains' | 'matches' | 'exists' | 'not_exists' | 'gt' | 'gte' | 'lt' | 'lte' | 'in';

export const ASSERTION_SOURCES: readonly AssertionSource[] = ['json', 'header', 'status', 'body'];
export const ASSERTION_OPS: readonly AssertionOp[] = ['eq', 'neq', 'contains', 'not_contains', 'matches', 'exists', 'not_exists', 'gt', 'gte', 'lt', 'lte', 'in'];

export interface Assertion {
  readonly source: AssertionSource;
  /** JSONPath, source `json` only. */
  readonly path?: string;
  /** Header name, source `header` only; stored lower-case. */
  readonly name?: string;
  readonly op: AssertionOp;
  /** Absent for exists/not_exists; an array for `in`; a number for gt/gte/lt/lte; a pattern for `matches`. */
  readonly value?: unknown;
}

export interface ResponseMatcher {
  readonly body_contains?: string;
  readonly body_not_contains?: string;
  readonly assertions?: readonly Assertion[];
}

/** What the matcher sees of a response. Header names lower-case. */
export interface ResponseForMatching {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type MatchResult = { readonly ok: true } | { readonly ok: false; readonly rule: string };

export const MAX_ASSERTIONS = 20;
/** `matches` is the one costly op (see linear-regex-engine.ts); this bounds a matcher's worst case. */
export const MAX_MATCHES_ASSERTIONS = 5;
export const MAX_NEEDLE_LENGTH = 4096;
