import { isPlainObject, JsonPathSyntaxError, parseJsonPath, type TemplateProblem } from '@trigrun/templating';
import { linearRegexEngine } from './linear-regex-engine';
import type { RegexEngine } from './regex-engine';
import { UnsafePatternError } from './regex-engine';
import {
  type Assertion,
  ASSERTION_OPS,
  ASSERTION_SOURCES,
  type AssertionOp,
  type AssertionSource,
  MAX_ASSERTIONS,
  MAX_MATCHES_ASSERTIONS,
  MAX_NEEDLE_LENGTH,
  type ResponseMatcher,
} from './response-matcher';

/**
 * Create-time validation of a `response_matcher` (docs/jobs.md). Reports every problem at once with
 * its field path; `matches` patterns are compiled by the same engine that will run them, so a
 * pattern accepted here also runs at send time. `undefined`/`null` mean "no matcher".
 *
 * Value types per op and source (anything else is a problem):
 *
 *   op                    json         header / body     status
 *   eq, neq               any JSON     string            integer
 *   contains, not_contains any JSON    string            —
 *   matches               pattern      pattern           pattern
 *   exists, not_exists    (no value)   header only       —
 *   gt, gte, lt, lte      number       number            number
 *   in                    non-empty list of the eq type for the source
 */
export function normalizeMatcher(
  input: unknown,
  field: string,
  regex: RegexEngine = linearRegexEngine,
): { value?: ResponseMatcher; problems: TemplateProblem[] } {
  if (input === undefined || input === null) return { problems: [] };
  if (!isPlainObject(input)) return { problems: [{ field, message: 'must be an object' }] };
  const problems: TemplateProblem[] = [];
  unknownKeys(input, ['body_contains', 'body_not_contains', 'assertions'], field, problems);
  for (const key of ['body_contains', 'body_not_contains'] as const) {
    const needle = input[key];
    if (needle === undefined) continue;
    if (typeof needle !== 'string' || needle === '') problems.push({ field: `${field}.${key}`, message: 'must be a non-empty string' });
    else if (needle.length > MAX_NEEDLE_LENGTH) problems.push({ field: `${field}.${key}`, message: `must be at most ${MAX_NEEDLE_LENGTH} characters` });
  }
  const assertions: Assertion[] = [];
  if (input.assertions !== undefined) {
    if (!Array.isArray(input.assertions)) {
      problems.push({ field: `${field}.assertions`, message: 'must be a list' });
    } else if (input.assertions.length > MAX_ASSERTIONS) {
      problems.push({ field: `${field}.assertions`, message: `must have at most ${MAX_ASSERTIONS} entries` });
    } else {
      input.assertions.forEach((item, i) => {
        const assertion = normalizeAssertion(item, `${field}.assertions[${i}]`, regex, problems);
        if (assertion) assertions.push(assertion);
      });
      if (input.assertions.filter((a) => isPlainObject(a) && a.op === 'matches').length > MAX_MATCHES_ASSERTIONS) {
        problems.push({ field: `${field}.assertions`, message: `may use op matches at most ${MAX_MATCHES_ASSERTIONS} times` });
      }
    }
  }
  if (problems.length > 0) return { problems };
  return {
    value: {
      ...(input.body_contains !== undefined ? { body_contains: input.body_contains as string } : {}),
      ...(input.body_not_contains !== undefined ? { body_not_contains: input.body_not_contains as string } : {}),
      ...(input.assertions !== undefined ? { assertions } : {}),
    },
    problems,
  };
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VALUELESS: readonly AssertionOp[] = ['exists', 'not_exists'];
const NUMERIC_OPS: readonly AssertionOp[] = ['gt', 'gte', 'lt', 'lte'];
const NOT_FOR: Record<AssertionSource, readonly AssertionOp[]> = {
  json: [],
  header: [],
  body: ['exists', 'not_exists'],
  status: ['contains', 'not_contains', 'exists', 'not_exists'],
};

function normalizeAssertion(input: unknown, at: string, regex: RegexEngine, problems: TemplateProblem[]): Assertion | undefined {
  if (!isPlainObject(input)) {
    problems.push({ field: at, message: 'must be an object' });
    return undefined;
  }
  const before = problems.length;
  unknownKeys(input, ['source', 'path', 'name', 'op', 'value'], at, problems);
  const source = input.source as AssertionSource;
  const op = input.op as AssertionOp;
  const sourceOk = ASSERTION_SOURCES.includes(source);
  const opOk = ASSERTION_OPS.includes(op);
  if (!sourceOk) problems.push({ field: `${at}.source`, message: `must be one of ${ASSERTION_SOURCES.join(', ')}` });
  if (!opOk) problems.push({ field: `${at}.op`, message: `must be one of ${ASSERTION_OPS.join(', ')}` });

  if (source === 'json') checkPath(input.path, `${at}.path`, problems);
  else if (input.path !== undefined && sourceOk) problems.push({ field: `${at}.path`, message: 'is only used with source json' });
  if (source === 'header') {
    if (typeof input.name !== 'string' || !HEADER_NAME.test(input.name)) problems.push({ field: `${at}.name`, message: 'must be a header name for source header' });
  } else if (input.name !== undefined && sourceOk) {
    problems.push({ field: `${at}.name`, message: 'is only used with source header' });
  }

  if (sourceOk && opOk) {
    if (NOT_FOR[source].includes(op)) problems.push({ field: `${at}.op`, message: `${op} is not available for source ${source}` });
    else checkValue(source, op, input.value, `${at}.value`, regex, problems);
  }
  if (problems.length > before) return undefined;
  return {
    source,
    ...(source === 'json' ? { path: input.path as string } : {}),
    ...(source === 'header' ? { name: (input.name as string).toLowerCase() } : {}),
    op,
    ...(VALUELESS.includes(op) ? {} : { value: input.value }),
  };
}

function checkPath(path: unknown, at: string, problems: TemplateProblem[]): void {
  if (typeof path !== 'string') {
    problems.push({ field: at, message: 'must be a JSONPath for source json' });
    return;
  }
  try {
    parseJsonPath(path);
  } catch (error) {
    if (!(error instanceof JsonPathSyntaxError)) throw error;
    problems.push({ field: at, message: `is not a valid JSONPath: ${error.reason} at position ${error.position}` });
  }
}

function checkValue(source: AssertionSource, op: AssertionOp, value: unknown, at: string, regex: RegexEngine, problems: TemplateProblem[]): void {
  const problem = (message: string) => problems.push({ field: at, message });
  if (VALUELESS.includes(op)) {
    if (value !== undefined) problem(`must be omitted for op ${op}`);
    return;
  }
  if (value === undefined) return void problem(`is required for op ${op}`);
  if (NUMERIC_OPS.includes(op)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) problem(`must be a number for op ${op}`);
    return;
  }
  if (op === 'matches') {
    if (typeof value !== 'string') return void problem('must be a string pattern for op matches');
    try {
      regex.compile(value);
    } catch (error) {
      if (!(error instanceof UnsafePatternError)) throw error;
      problem(error.reason);
    }
    return;
  }
  if (op === 'in') {
    if (!Array.isArray(value) || value.length === 0) return void problem('must be a non-empty list for op in');
    if (!value.every((item) => isComparable(source, item))) problem(`must be a list of ${comparableName(source)}s for source ${source}`);
    return;
  }
  // eq, neq, contains, not_contains
  if (!isComparable(source, value)) problem(`must be ${source === 'status' ? 'an' : 'a'} ${comparableName(source)} for source ${source}`);
}

/** What an eq/in value may be per source: the type the response gives (status number, header/body text). */
const isComparable = (source: AssertionSource, value: unknown): boolean =>
  source === 'status' ? Number.isInteger(value) : source === 'json' ? value !== undefined : typeof value === 'string';

const comparableName = (source: AssertionSource) => (source === 'status' ? 'integer status code' : source === 'json' ? 'JSON value' : 'string');

function unknownKeys(input: Record<string, unknown>, known: readonly string[], field: string, problems: TemplateProblem[]): void {
  for (const key of Object.keys(input)) if (!known.includes(key)) problems.push({ field: `${field}.${key}`, message: 'is not a known field' });
}
