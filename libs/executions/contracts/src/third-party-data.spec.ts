import fc from 'fast-check';
import { MAX_STORED_JSON_DEPTH, jsonDepth, jsonText, storableJson, storableParsed, storableText, storableValue } from './third-party-data';

const deepArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObjects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
/** What PostgreSQL's jsonb and text refuse: a NUL anywhere, and a surrogate without its partner. */
const unstorable = (s: string) => s.includes('\u0000') || /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

describe('storableText', () => {
  it.each([
    ['plain text is kept', 'hello', 'hello'],
    ['a NUL becomes U+FFFD', 'a\u0000b', 'a\uFFFDb'],
    ['every NUL', '\u0000\u0000', '\uFFFD\uFFFD'],
    ['a lone high surrogate', 'x\ud800y', 'x\uFFFDy'],
    ['a lone low surrogate', 'x\udc00y', 'x\uFFFDy'],
    ['a high surrogate at the end', 'x\udbff', 'x\uFFFD'],
    ['two high surrogates in a row', '\ud800\ud800', '\uFFFD\uFFFD'],
    ['low before high is two lone ones', '\udc00\ud800', '\uFFFD\uFFFD'],
    ['a paired surrogate (emoji) is kept', 'ok \ud83d\ude00', 'ok \ud83d\ude00'],
    ['a pair next to a lone one', '\ud83d\ude00\ud83d', '\ud83d\ude00\uFFFD'],
    ['U+FFFD itself is kept', '\uFFFD', '\uFFFD'],
    ['the empty string', '', ''],
  ])('%s', (_name, input, expected) => {
    expect(storableText(input)).toBe(expected);
    expect(unstorable(storableText(input))).toBe(false);
  });
});

describe('storableJson (a body as the engine keeps it)', () => {
  it.each<[string, string, unknown]>([
    ['empty body', '', null],
    ['plain JSON', '{"a":[1,"x",true,null]}', { a: [1, 'x', true, null] }],
    ['an escaped NUL in a value', '{"a":"x\\u0000y"}', { a: 'x\uFFFDy' }],
    ['an escaped NUL in a key', '{"k\\u0000":1}', { 'k\uFFFD': 1 }],
    ['a lone high surrogate in a value', '{"a":"\\ud800"}', { a: '\uFFFD' }],
    ['a lone low surrogate in a key', '{"\\udfff":1}', { '\uFFFD': 1 }],
    ['a surrogate pair is kept', '{"a":"\\ud83d\\ude00"}', { a: '\ud83d\ude00' }],
    ['nested values and keys', '[{"x":{"\\u0000":["\\ud800"]}}]', [{ x: { '\uFFFD': ['\uFFFD'] } }]],
    ['not JSON: the text, made storable', 'oops\u0000 \ud800', 'oops\uFFFD \uFFFD'],
    ['a JSON string', '"a\\u0000"', 'a\uFFFD'],
    ['a number', '42', 42],
  ])('%s', (_name, text, expected) => {
    expect(storableJson(text)).toEqual(expected);
  });

  it('keeps __proto__ as an own key, never as a prototype', () => {
    const value = storableJson('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps the key order', () => {
    expect(Object.keys(storableJson('{"b":1,"a":2,"\\u0000":3,"c":4}') as object)).toEqual(['b', 'a', '\uFFFD', 'c']);
  });

  it.each([
    ['arrays at the limit', 'parsed', deepArrays(MAX_STORED_JSON_DEPTH)],
    ['arrays one past the limit', 'text', deepArrays(MAX_STORED_JSON_DEPTH + 1)],
    ['objects at the limit', 'parsed', deepObjects(MAX_STORED_JSON_DEPTH)],
    ['objects one past the limit', 'text', deepObjects(MAX_STORED_JSON_DEPTH + 1)],
    ['20,000-deep arrays', 'text', deepArrays(20_000)],
    ['20,000-deep objects', 'text', deepObjects(20_000)],
    ['1,000,000-deep arrays', 'text', deepArrays(1_000_000)],
  ])('%s: kept as %s, without a stack overflow', (_name, kept, text) => {
    const value = storableJson(text);
    if (kept === 'text') expect(value).toBe(text);
    else {
      expect(typeof value).toBe('object');
      expect(jsonDepth(value)).toBe(MAX_STORED_JSON_DEPTH);
      // What the engine does next with a kept value must work.
      expect(JSON.parse(JSON.stringify(value))).toEqual(value);
    }
  });

  it('keeps a too-deep body as storable text', () => {
    expect(storableJson(`${deepArrays(100)} \u0000`)).toBe(`${deepArrays(100)} \uFFFD`);
    expect(storableJson(`["\\u0000",${deepArrays(100)}]`)).toBe(`["\\u0000",${deepArrays(100)}]`);
  });

  it('copes with huge flat arrays and objects', () => {
    const n = 200_000;
    const list = storableJson(JSON.stringify(Array.from({ length: n }, (_, i) => (i % 2 ? 'a\u0000' : i)))) as unknown[];
    expect(list).toHaveLength(n);
    expect(list[1]).toBe('a\uFFFD');
    expect(list[n - 2]).toBe(n - 2);
    const wide = storableJson(JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}\u0000`, i])))) as Record<string, number>;
    expect(Object.keys(wide)).toHaveLength(n);
    expect(wide[`k${n - 1}\uFFFD`]).toBe(n - 1);
  });
});

describe('storableParsed', () => {
  it('copies a value parsed elsewhere, and keeps the text when it is too deep', () => {
    expect(storableParsed({ a: '\u0000' }, '{"a":"\\u0000"}')).toEqual({ a: '\uFFFD' });
    const text = deepArrays(500);
    expect(storableParsed(JSON.parse(text), text)).toBe(text);
  });
});

describe('storableValue (values that arrive without their text)', () => {
  it.each<[string, unknown, unknown]>([
    ['scalars', 7, 7],
    ['null', null, null],
    ['a NUL in a nested key and value', { a: [{ 'k\u0000': 'v\ud800' }] }, { a: [{ 'k\uFFFD': 'v\uFFFD' }] }],
    ['undefined in an array is null, in an object dropped', { a: [undefined, 1], b: undefined }, { a: [null, 1] }],
    ['non-finite numbers are null (as JSON writes them)', [Number.NaN, Number.POSITIVE_INFINITY], [null, null]],
  ])('%s', (_name, input, expected) => {
    expect(storableValue(input)).toEqual(expected);
  });

  it('keeps the first levels and writes what is nested below the limit as its JSON text, at any depth', () => {
    for (const depth of [MAX_STORED_JSON_DEPTH + 1, 20_000, 1_000_000]) {
      const value = JSON.parse(deepObjects(depth)) as unknown;
      let node = storableValue(value) as Record<string, unknown>;
      for (let level = 1; level < MAX_STORED_JSON_DEPTH; level++) node = node.a as Record<string, unknown>;
      // The object at the limit is kept; its child, one level below, is text.
      expect(node.a).toBe(deepObjects(depth - MAX_STORED_JSON_DEPTH));
    }
  });

  it('writes a too-deep part as storable text, the rest as it was', () => {
    expect(storableValue({ a: JSON.parse(deepArrays(3)), b: 'x\u0000' }, 2)).toEqual({ a: ['[[]]'], b: 'x\uFFFD' });
    expect(storableValue([{ k: ['\u0000'] }], 2)).toEqual([{ k: '["\\u0000"]' }]);
    expect(storableValue(JSON.parse(deepArrays(5)), 0)).toBe(deepArrays(5));
  });

  it('does not change its input', () => {
    const input = { a: ['x\u0000'] };
    storableValue(input);
    expect(input.a[0]).toBe('x\u0000');
  });
});

describe('jsonText', () => {
  it.each<[string, unknown]>([
    ['an object', { a: 1, b: [true, null, 'x"y'], c: { d: {} } }],
    ['an array with holes and undefined', [1, undefined, () => 1, 'z']],
    ['an object with undefined', { a: undefined, b: 2 }],
    ['a string with escapes', 'line\nbreak \u0000 \ud800'],
    ['a number', 1.5],
    ['null', null],
    ['empty containers', [[], {}]],
  ])('writes %s as JSON.stringify does', (_name, value) => {
    expect(jsonText(value)).toBe(JSON.stringify(value));
  });

  it('writes 1,000,000 levels without a stack overflow', () => {
    const text = deepArrays(1_000_000);
    expect(jsonText(JSON.parse(text))).toBe(text);
  });
});

describe('jsonDepth', () => {
  it.each<[unknown, number]>([
    [1, 0],
    ['x', 0],
    [[], 1],
    [{}, 1],
    [{ a: [1] }, 2],
    [[[], [[[]]]], 4],
  ])('%j is %i deep', (value, depth) => {
    expect(jsonDepth(value)).toBe(depth);
  });

  it('stops counting once past the limit', () => {
    expect(jsonDepth(JSON.parse(deepArrays(1_000_000)), 64)).toBe(65);
  });
});

describe('properties (fast-check)', () => {
  /** Any UTF-16 code units: NUL, lone surrogates of both kinds, pairs, everything. */
  const units = fc.array(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0, 0xd800, 0xdbff, 0xdc00, 0xdfff)), { maxLength: 24 }).map((codes) => String.fromCharCode(...codes));
  const storable = (s: string) => !unstorable(s);
  const everyString = (value: unknown, check: (s: string) => boolean): boolean => {
    const stack = [value];
    while (stack.length > 0) {
      const v = stack.pop();
      if (typeof v === 'string' && !check(v)) return false;
      if (Array.isArray(v)) stack.push(...v);
      else if (v !== null && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (!check(k)) return false;
          stack.push(x);
        }
      }
    }
    return true;
  };

  it('storableText always yields storable text, changes nothing storable, and is idempotent', () => {
    fc.assert(
      fc.property(units, (s) => {
        const out = storableText(s);
        expect(storable(out)).toBe(true);
        expect(out).toHaveLength(s.length);
        expect(storableText(out)).toBe(out);
        if (storable(s)) expect(out).toBe(s);
      }),
    );
  });

  it('storableValue and storableJson leave no unstorable string or key in any JSON value', () => {
    const values = fc.object({ key: units, values: [units, fc.integer(), fc.boolean(), fc.constant(null)], maxDepth: 4 });
    fc.assert(
      fc.property(values, (value) => {
        const direct = storableValue(value);
        expect(everyString(direct, storable)).toBe(true);
        const parsed = storableJson(JSON.stringify(value));
        expect(everyString(parsed, storable)).toBe(true);
        // Nothing PostgreSQL's jsonb refuses survives in the JSON text either.
        expect(JSON.stringify(parsed)).not.toMatch(/\\u0000|\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}/i);
      }),
    );
  });
});

describe('the depth rule read from the text (the fast path for bodies with nothing to replace)', () => {
  it.each<[string, string, number, 'parsed' | 'text']>([
    ['brackets inside strings do not count', '{"a":"[[[[[[[[","b":"{{{{"}', 1, 'parsed'],
    ['escaped quotes do not end a string', '{"a":"\\"[[[[","b":[]}', 2, 'parsed'],
    ['an escaped backslash before a quote does', '{"a":"\\\\","b":[[]]}', 2, 'text'],
    ['nesting at the limit', '[[{"a":[]}]]', 4, 'parsed'],
    ['nesting past the limit', '[[{"a":[[]]}]]', 4, 'text'],
  ])('%s', (_name, text, maxDepth, kept) => {
    const value = storableJson(text, maxDepth);
    if (kept === 'text') expect(value).toBe(text);
    else expect(value).toEqual(JSON.parse(text));
  });

  it('agrees with the value walk on every JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 8 }), (value, maxDepth) => {
        const text = JSON.stringify(value);
        const kept = storableJson(text, maxDepth);
        if (jsonDepth(value) > maxDepth) expect(kept).toBe(storableText(text));
        else expect(kept).toEqual(storableValue(JSON.parse(text) as unknown, maxDepth));
      }),
    );
  });
});
