import { deepEqual, preview } from './json-value';

describe('deepEqual', () => {
  it.each`
    a                                  | b                                  | expected
    ${1}                               | ${1}                               | ${true}
    ${1}                               | ${'1'}                             | ${false}
    ${null}                            | ${null}                            | ${true}
    ${null}                            | ${{}}                              | ${false}
    ${{ a: 1, b: [1, { c: 2 }] }}      | ${{ b: [1, { c: 2 }], a: 1 }}      | ${true}
    ${{ a: 1 }}                        | ${{ a: 1, b: undefined }}          | ${false}
    ${[1, 2]}                          | ${[2, 1]}                          | ${false}
    ${[]}                              | ${{}}                              | ${false}
    ${{ a: [] }}                       | ${{ a: [] }}                       | ${true}
  `('$a vs $b -> $expected', ({ a, b, expected }) => {
    expect(deepEqual(a, b)).toBe(expected);
    expect(deepEqual(b, a)).toBe(expected);
  });
});

describe('preview', () => {
  it.each`
    value                              | text
    ${'ok'}                            | ${'"ok"'}
    ${3}                               | ${'3'}
    ${null}                            | ${'null'}
    ${{ a: [1, 'x'], b: { c: true } }} | ${'{"a":[1,"x"],"b":{"c":true}}'}
    ${'x'.repeat(200)}                 | ${`"${'x'.repeat(99)}…`}
  `('$value -> $text', ({ value, text }) => {
    expect(preview(value)).toBe(text);
  });

  it('stays short and shallow for huge or deep values', () => {
    expect(preview(Array.from({ length: 100_000 }, (_, i) => i)).length).toBe(101);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(preview(deep)).toBe('['.repeat(8) + '[…]' + ']'.repeat(8));
  });
});
