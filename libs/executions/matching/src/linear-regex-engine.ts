import * as v8 from 'node:v8';
import { estimateRegexCost } from './regex-cost';
import { type CompiledPattern, PatternInputTooLongError, type RegexEngine, UnsafePatternError } from './regex-engine';

/**
 * `matches` runs on V8's linear-time RegExp engine (the `l` flag, behind
 * `--enable-experimental-regexp-engine`): an NFA simulation that cannot backtrack, so patterns
 * like `(a+)+$` cannot blow up. It refuses what it cannot run in linear time — backreferences,
 * lookarounds, counted repetition above 16 — and the `i`/`u` flags (this build compiles with `l`
 * alone: matching is case-sensitive, on UTF-16 code units).
 *
 * Verified on Node 20.20: the flag can be set at run time, before the first `l` pattern.
 * It only enables the `l` flag; other regexes in the process are unaffected. If the flag is ever
 * unavailable, compile throws and every `matches` rule fails closed (create-time validation says
 * "cannot be checked") rather than falling back to the backtracking engine.
 *
 * Linear is not free (see regex-cost.ts): work = program size × input length. Each compiled
 * pattern gets `maxInputLength = floor(stepBudget / cost)`; longer text is refused, and a pattern
 * that could not even test `minInputLength` characters is refused at compile time as too complex.
 * The default budget (2^21 units) keeps one `matches` under ~0.5 s on adversarial input; a
 * typical pattern (`"status":\s*"ok"`) may test ~85 000 characters.
 */
const FLAG = '--enable-experimental-regexp-engine';
export const MAX_PATTERN_LENGTH = 512;
export const DEFAULT_STEP_BUDGET = 2 ** 21;
export const DEFAULT_MIN_INPUT_LENGTH = 4096;

let available: boolean | undefined;

function linearEngineAvailable(): boolean {
  if (available === undefined) {
    v8.setFlagsFromString(FLAG);
    try {
      // eslint-disable-next-line no-invalid-regexp -- `l` is V8's linear-engine flag, enabled just above
      new RegExp('', 'l');
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

export function createLinearRegexEngine(options: { stepBudget?: number; minInputLength?: number } = {}): RegexEngine {
  const stepBudget = options.stepBudget ?? DEFAULT_STEP_BUDGET;
  const minInputLength = options.minInputLength ?? DEFAULT_MIN_INPUT_LENGTH;
  return {
    compile(pattern: string): CompiledPattern {
      if (typeof pattern !== 'string') throw new UnsafePatternError(String(pattern), 'must be a string');
      if (pattern.length > MAX_PATTERN_LENGTH) throw new UnsafePatternError(pattern, `must be at most ${MAX_PATTERN_LENGTH} characters`);
      if (!linearEngineAvailable()) throw new UnsafePatternError(pattern, 'cannot be checked: the linear-time regex engine is not available in this runtime');
      let regex: RegExp;
      try {
        // eslint-disable-next-line no-invalid-regexp -- `l` is V8's linear-engine flag (see the top of this file)
        regex = new RegExp(pattern, 'l');
      } catch (error) {
        throw new UnsafePatternError(pattern, describeRejection(error));
      }
      const maxInputLength = Math.floor(stepBudget / estimateRegexCost(pattern));
      if (maxInputLength < minInputLength) {
        throw new UnsafePatternError(pattern, `is too complex for the linear-time engine (it could test only ${maxInputLength} characters of text); simplify it`);
      }
      return {
        maxInputLength,
        test(text: string): boolean {
          if (text.length > maxInputLength) throw new PatternInputTooLongError(text.length, maxInputLength);
          return regex.test(text);
        },
      };
    },
  };
}

export const linearRegexEngine: RegexEngine = createLinearRegexEngine();

/** V8 says "Invalid regular expression: /<pattern>/l: <reason>"; keep the reason, in our words where it helps. */
function describeRejection(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const reason = /: ([^:]*)$/.exec(message)?.[1] ?? message;
  if (/linear time/i.test(reason)) {
    return 'uses a feature the linear-time engine cannot run (backreferences, lookahead/lookbehind, or a counted repetition above 16)';
  }
  return `is not a valid regular expression: ${reason}`;
}
