export {
  type Assertion,
  type AssertionOp,
  type AssertionSource,
  type ResponseMatcher,
  type ResponseForMatching,
  type MatchResult,
  ASSERTION_OPS,
  ASSERTION_SOURCES,
  MAX_ASSERTIONS,
  MAX_MATCHES_ASSERTIONS,
  MAX_NEEDLE_LENGTH,
} from './response-matcher';
export { normalizeMatcher } from './normalize-matcher';
export { evaluateMatcher, describeAssertion } from './evaluate-matcher';
export { renderOutputTemplate, renderOutputTemplateOver, normalizeOutputTemplate, isJsonPathLeaf } from './output-template';
export { type RegexEngine, type CompiledPattern, UnsafePatternError, PatternInputTooLongError } from './regex-engine';
export { linearRegexEngine, createLinearRegexEngine, MAX_PATTERN_LENGTH, DEFAULT_STEP_BUDGET, DEFAULT_MIN_INPUT_LENGTH } from './linear-regex-engine';
export { estimateRegexCost } from './regex-cost';
