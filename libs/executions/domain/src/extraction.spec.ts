import { MAX_CONTEXT_VALUE_LENGTH, asStoredString, extractFrom } from './extraction';

/** `extract` / `extract_to_context` over a step's result (docs/workflows.md): data only, no script, no prototype. */
describe('extractFrom', () => {
  const source = {
    order: { id: 'o-1', total: 12.5, lines: [{ sku: 'a' }, { sku: 'b' }] },
    flag: false,
    nothing: null,
    'x-source': 'shop',
  };

  it.each([
    ['a nested string', '$.order.id', 'o-1'],
    ['a number', '$.order.total', 12.5],
    ['false', '$.flag', false],
    ['null', '$.nothing', null],
    ['an object', '$.order.lines[0]', { sku: 'a' }],
    ['an index from the end', '$.order.lines[-1].sku', 'b'],
    ['a dotted index', '$.order.lines.1.sku', 'b'],
    ['a wildcard, as a list', '$.order.lines[*].sku', ['a', 'b']],
    ['a bracketed name', "$['x-source']", 'shop'],
    ['the whole source', '$', source],
  ])('reads %s', (_, path, expected) => {
    expect(extractFrom({ extract: { v: path } }, source)).toEqual({ values: { v: expected }, contextUpdates: {} });
  });

  it.each([
    ['a missing key', '$.order.missing'],
    ['a key under a scalar', '$.order.id.length'],
    ['an index out of range', '$.order.lines[5]'],
    ['a wildcard matching nothing', '$.order.none[*]'],
    ['the prototype', '$.__proto__'],
    ['a constructor', '$.order.constructor'],
  ])('sets nothing for %s', (_, path) => {
    expect(extractFrom({ extract: { v: path }, extract_to_context: { w: path } }, source)).toEqual({ values: {}, contextUpdates: {} });
  });

  it('reads nothing out of a source that is not JSON data', () => {
    expect(extractFrom({ extract: { v: '$.a' } }, null)).toEqual({ values: {}, contextUpdates: {} });
    expect(extractFrom({ extract: { v: '$.a' } }, 'plain text')).toEqual({ values: {}, contextUpdates: {} });
    expect(extractFrom({}, source)).toEqual({ values: {}, contextUpdates: {} });
  });

  it('puts extract_to_context values in both the context and the store, as stored strings', () => {
    expect(extractFrom({ extract: { id: '$.order.id' }, extract_to_context: { total: '$.order.total', skus: '$.order.lines[*].sku', none: '$.nothing' } }, source)).toEqual({
      values: { id: 'o-1', total: 12.5, skus: ['a', 'b'], none: null },
      contextUpdates: { total: '12.5', skus: '["a","b"]', none: 'null' },
    });
  });

  it('defines `__proto__` as an own key of plain objects', () => {
    const { values, contextUpdates } = extractFrom({ extract_to_context: JSON.parse('{"__proto__": "$.order"}') }, source);
    for (const target of [values, contextUpdates]) {
      expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
      expect(Object.keys(target)).toEqual(['__proto__']);
      expect((target as Record<string, unknown>).id).toBeUndefined();
    }
    expect(Object.getOwnPropertyDescriptor(contextUpdates, '__proto__')?.value).toBe(JSON.stringify(source.order));
  });
});

describe('asStoredString', () => {
  it.each([
    ['text', 'abc', 'abc'],
    ['a number', 42, '42'],
    ['a boolean', true, 'true'],
    ['null', null, 'null'],
    ['an object', { a: [1, 'x'] }, '{"a":[1,"x"]}'],
  ])('stores %s as %s', (_, value, expected) => {
    expect(asStoredString(value)).toBe(expected);
  });

  it(`cuts values longer than ${MAX_CONTEXT_VALUE_LENGTH} characters`, () => {
    expect(asStoredString('y'.repeat(MAX_CONTEXT_VALUE_LENGTH + 10))).toBe('y'.repeat(MAX_CONTEXT_VALUE_LENGTH));
  });
});
