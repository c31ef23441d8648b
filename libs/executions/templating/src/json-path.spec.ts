import { jsonPath, JsonPathSyntaxError, parseJsonPath } from './json-path';

const doc = JSON.parse(`{
  "status": "ok",
  "count": 0,
  "none": null,
  "order": { "id": "ord_1", "x-source": "shop", "total": 12.5 },
  "items": [ { "id": "a", "tags": ["t1"] }, { "id": "b", "tags": [] }, { "name": "no id" } ],
  "key with space": 1,
  "it's": 2,
  "quo\\"te": 3,
  "0": "zero key",
  "__proto__": { "polluted": true },
  "constructor": "data"
}`);

describe('jsonPath', () => {
  it.each`
    path                          | value
    ${'$'}                        | ${doc}
    ${'$.status'}                 | ${'ok'}
    ${'$.count'}                  | ${0}
    ${'$.none'}                   | ${null}
    ${'$.order.id'}               | ${'ord_1'}
    ${'$.order.x-source'}         | ${'shop'}
    ${"$['order']['total']"}      | ${12.5}
    ${'$["order"].id'}            | ${'ord_1'}
    ${"$[ 'key with space' ]"}    | ${1}
    ${"$['it\\'s']"}              | ${2}
    ${'$["quo\\"te"]'}            | ${3}
    ${"$['\\u006Frder'].id"}      | ${'ord_1'}
    ${'$.items[0].id'}            | ${'a'}
    ${'$.items.1.id'}             | ${'b'}
    ${'$.items[-1].name'}         | ${'no id'}
    ${'$.items[-3].id'}           | ${'a'}
    ${'$.items[0].tags[0]'}       | ${'t1'}
    ${'$.0'}                      | ${'zero key'}
    ${"$['0']"}                   | ${'zero key'}
    ${'$.items[*].id'}            | ${['a', 'b']}
    ${'$.items.*.tags[*]'}        | ${['t1']}
    ${'$.order.*'}                | ${['ord_1', 'shop', 12.5]}
    ${'$.items[*]'}               | ${doc.items}
  `('$path finds $value', ({ path, value }) => {
    expect(jsonPath(doc, path)).toEqual({ found: true, value });
  });

  it.each`
    path
    ${'$.nope'}
    ${'$.order.nope'}
    ${'$.items[3]'}
    ${'$.items[-4]'}
    ${'$.items.01'}
    ${'$.items.length'}
    ${'$.status.length'}
    ${'$.order[0]'}
    ${'$.status[0]'}
    ${'$.items[*].nope'}
    ${'$.items[1].tags[*]'}
    ${'$.__proto__'}
    ${'$.__proto__.polluted'}
    ${"$['__proto__']"}
    ${'$.constructor'}
    ${'$.order.constructor'}
    ${'$.order.hasOwnProperty'}
    ${'$.items.constructor'}
  `('$path is not found', ({ path }) => {
    expect(jsonPath(doc, path)).toEqual({ found: false });
  });

  it('reads scalars and a parsed path', () => {
    expect(jsonPath('text', '$')).toEqual({ found: true, value: 'text' });
    expect(jsonPath({ a: 1 }, parseJsonPath('$.a'))).toEqual({ found: true, value: 1 });
    expect(jsonPath(null, '$.a')).toEqual({ found: false });
  });
});

describe('parseJsonPath', () => {
  it.each`
    path                 | segments                                                                                | singular
    ${'$'}               | ${[]}                                                                                   | ${true}
    ${'$.a.b-c'}         | ${[{ kind: 'key', key: 'a' }, { kind: 'key', key: 'b-c' }]}                             | ${true}
    ${"$['a.b'][-1]"}    | ${[{ kind: 'key', key: 'a.b' }, { kind: 'index', index: -1 }]}                          | ${true}
    ${'$.a[*].b'}        | ${[{ kind: 'key', key: 'a' }, { kind: 'wildcard' }, { kind: 'key', key: 'b' }]}         | ${false}
  `('$path', ({ path, segments, singular }) => {
    expect(parseJsonPath(path)).toEqual({ source: path, segments, singular });
  });

  it.each`
    path                         | position | reason
    ${''}                        | ${0}     | ${"a path starts with '$'"}
    ${'status'}                  | ${0}     | ${"a path starts with '$'"}
    ${'$..id'}                   | ${1}     | ${'recursive descent (..) is not supported'}
    ${'$.items[?(@.id=="a")]'}   | ${8}     | ${'filter expressions are not supported'}
    ${'$.items[(@.length-1)]'}   | ${8}     | ${'script expressions are not supported'}
    ${'$.items[0,1]'}            | ${9}     | ${'unions are not supported'}
    ${'$.items[0:2]'}            | ${9}     | ${'slices are not supported'}
    ${'$.'}                      | ${2}     | ${"expected a name after '.' (use ['…'] for other keys)"}
    ${'$.a b'}                   | ${3}     | ${'unexpected " "'}
    ${'$.a['}                    | ${4}     | ${"expected an index, '*' or a quoted key"}
    ${'$.a[0'}                   | ${5}     | ${"expected ']'"}
    ${'$.a[01]'}                 | ${5}     | ${"expected ']'"}
    ${'$.a[-0]'}                 | ${4}     | ${"expected an index, '*' or a quoted key"}
    ${'$.a[abc]'}                | ${4}     | ${"expected an index, '*' or a quoted key"}
    ${"$['abc"}                  | ${6}     | ${'unterminated quoted key'}
    ${"$['a\\x']"}               | ${4}     | ${'invalid escape'}
    ${'$.a[99999999999999999]'}  | ${4}     | ${'index is too large'}
    ${'$a'}                      | ${1}     | ${'unexpected "a"'}
  `('$path: $reason', ({ path, position, reason }) => {
    let error: unknown;
    try {
      parseJsonPath(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(JsonPathSyntaxError);
    expect(error).toMatchObject({ path, position, reason, code: 'invalid_json_path', message: `invalid JSONPath ${JSON.stringify(path)}: ${reason} at position ${position}` });
  });

  it('caps the length', () => {
    expect(() => parseJsonPath('$' + '.a'.repeat(300))).toThrow(/at most 512 characters/);
  });

  it('throws from jsonPath too', () => {
    expect(() => jsonPath({}, '$..a')).toThrow(JsonPathSyntaxError);
  });
});
