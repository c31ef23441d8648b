/** A compiled pattern. `maxInputLength`: longer text is refused (test throws); absent = no limit. */
export interface CompiledPattern {
  test(text: string): boolean;
  readonly maxInputLength?: number;
}

/**
 * How `matches` runs a pattern. Injected so the shell decides where matching happens (and a
 * future engine, e.g. RE2, can replace the default); the domain only asks compile/test.
 * `compile` throws UnsafePatternError for a pattern the engine will not run; its `reason` reads
 * as a predicate of the pattern ("must be at most 512 characters", "is not a valid regular
 * expression: …") so it can be shown as a field problem as is.
 */
export interface RegexEngine {
  compile(pattern: string): CompiledPattern;
}

export class UnsafePatternError extends Error {
  readonly code = 'unsafe_pattern';

  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'UnsafePatternError';
  }
}

export class PatternInputTooLongError extends Error {
  readonly code = 'pattern_input_too_long';

  constructor(
    readonly length: number,
    readonly maxInputLength: number,
  ) {
    super(`text is ${length} characters; this pattern tests at most ${maxInputLength}`);
    this.name = 'PatternInputTooLongError';
  }
}
