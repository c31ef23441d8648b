import { createLinearRegexEngine, linearRegexEngine } from './linear-regex-engine';
import { PatternInputTooLongError, UnsafePatternError } from './regex-engine';

const rejection = (pattern: string, engine = linearRegexEngine): string => {
  try {
    engine.compile(pattern);
  } catch (error) {
    if (error instanceof UnsafePatternError) return error.reason;
    throw error;
  }
  throw new Error(`expected ${pattern} to be rejected`);
};

describe('linearRegexEngine', () => {
  it.each`
    pattern                     | text                         | expected
    ${'^OK$'}                   | ${'OK'}                      | ${true}
    ${'^OK$'}                   | ${'OK\n'}                    | ${false}
    ${'"status":\\s*"ok"'}      | ${'{"status": "ok"}'}        | ${true}
    ${'ready'}                  | ${'READY'}                   | ${false}
    ${'^[0-9a-f]{8}-'}          | ${'0b9c7c1e-2d4f'}           | ${true}
    ${'(?<word>\\w+)@x\\.com'}  | ${'ada@x.com'}               | ${true}
    ${'caf\u00e9'}              | ${'un café'}                 | ${true}
    ${'a{2,16}'}                | ${'aaa'}                     | ${true}
  `('/$pattern/ on $text -> $expected', ({ pattern, text, expected }) => {
    expect(linearRegexEngine.compile(pattern).test(text)).toBe(expected);
  });

  // Each of these takes minutes to years on a backtracking engine; here they finish at once.
  it.each`
    pattern                      | text                                  | expected
    ${'(a+)+$'}                  | ${'a'.repeat(50_000) + 'b'}           | ${false}
    ${'^(a|a)*$'}                | ${'a'.repeat(50_000) + '!'}           | ${false}
    ${'^(a|aa)+$'}               | ${'a'.repeat(50_000) + '!'}           | ${false}
    ${'(x+x+)+y'}                | ${'x'.repeat(50_000)}                 | ${false}
    ${'^(\\w+\\s?)*$'}           | ${'word '.repeat(5_000) + '!'}        | ${false}
    ${'(a+)+$'}                  | ${'a'.repeat(50_000)}                 | ${true}
  `('catastrophic /$pattern/ completes on a long input -> $expected', ({ pattern, text, expected }) => {
    expect(linearRegexEngine.compile(pattern).test(text)).toBe(expected);
  });

  it.each`
    pattern                | reason
    ${'(a)\\1'}            | ${'uses a feature the linear-time engine cannot run (backreferences, lookahead/lookbehind, or a counted repetition above 16)'}
    ${'(?<n>a)\\k<n>'}     | ${'uses a feature the linear-time engine cannot run (backreferences, lookahead/lookbehind, or a counted repetition above 16)'}
    ${'a(?=b)'}            | ${'uses a feature the linear-time engine cannot run (backreferences, lookahead/lookbehind, or a counted repetition above 16)'}
    ${'a(?!b)'}            | ${'uses a feature the linear-time engine cannot run (backreferences, lookahead/lookbehind, or a counted repetition above 16)'}
    ${'(?<=a)b'}           | ${'uses a feature the linear-time engine cannot run (backreferences, lookahead/lookbehind, or a counted repetition above 16)'}
    ${'a{17}'}             | ${'uses a feature the linear-time engine cannot run (backreferences, lookahead/lookbehind, or a counted repetition above 16)'}
    ${'(a'}                | ${'is not a valid regular expression: Unterminated group'}
    ${'[a'}                | ${'is not a valid regular expression: Unterminated character class'}
    ${'*a'}                | ${'is not a valid regular expression: Nothing to repeat'}
    ${'a'.repeat(513)}     | ${'must be at most 512 characters'}
  `('rejects /$pattern/', ({ pattern, reason }) => {
    expect(rejection(pattern)).toBe(reason);
  });

  it('rejects a pattern whose linear work is too large to test a useful amount of text', () => {
    const huge = '(' + '[a-z]{0,16}'.repeat(46) + ')z';
    expect(rejection(huge)).toMatch(/^is too complex for the linear-time engine \(it could test only \d+ characters of text\); simplify it$/);
  });

  it('bounds the text a pattern may test by its cost', () => {
    const engine = createLinearRegexEngine({ stepBudget: 1000, minInputLength: 10 });
    const compiled = engine.compile('abc'); // cost 3
    expect(compiled.maxInputLength).toBe(333);
    expect(compiled.test('x'.repeat(330) + 'abc')).toBe(true);
    expect(() => compiled.test('x'.repeat(334))).toThrow(PatternInputTooLongError);
    expect(() => compiled.test('x'.repeat(334))).toThrow('text is 334 characters; this pattern tests at most 333');
  });

  it('lets a typical pattern test a large body', () => {
    expect(linearRegexEngine.compile('"status":\\s*"ok"').maxInputLength).toBeGreaterThan(64 * 1024);
  });
});
