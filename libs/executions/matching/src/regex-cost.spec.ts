import { estimateRegexCost } from './regex-cost';

describe('estimateRegexCost', () => {
  it.each`
    pattern                           | cost
    ${''}                             | ${1}
    ${'abc'}                          | ${3}
    ${'^OK$'}                         | ${4}
    ${'.'}                            | ${4}
    ${'\\d\\w\\s'}                    | ${15}
    ${'[a-z]'}                        | ${1}
    ${'[a-z0-9_]'}                    | ${3}
    ${'[^a]'}                         | ${2}
    ${'[\\s\\d]'}                     | ${11}
    ${'a*'}                           | ${2}
    ${'a?'}                           | ${2}
    ${'a+'}                           | ${3}
    ${'a+?'}                          | ${3}
    ${'a{3}'}                         | ${3}
    ${'a{2,5}'}                       | ${8}
    ${'a{2,}'}                        | ${4}
    ${'(ab)'}                         | ${3}
    ${'(?:ab)'}                       | ${3}
    ${'(?<name>ab)'}                  | ${3}
    ${'a|b|c'}                        | ${5}
    ${'(a+)+'}                        | ${9}
    ${'x{'}                           | ${2}
    ${'\\x41\\u0041'}                 | ${2}
    ${'\\u{1F600}'}                   | ${8}
  `('$pattern -> $cost', ({ pattern, cost }) => {
    expect(estimateRegexCost(pattern)).toBe(cost);
  });

  it('grows with repetition and alternation', () => {
    expect(estimateRegexCost('([a-z]{0,16}){1}')).toBeGreaterThan(estimateRegexCost('[a-z]*'));
    expect(estimateRegexCost('(?:' + Array.from({ length: 64 }, (_, i) => `a${i}`).join('|') + ')+')).toBeGreaterThan(256);
  });

  it.each([')', '(((', '[', '\\', 'a)b)c', '[a-', '{1,2}'])('terminates on malformed input %p', (pattern) => {
    expect(estimateRegexCost(pattern)).toBeGreaterThan(0);
  });
});
