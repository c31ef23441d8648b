import { renderJson, renderRequest } from './render';
import { renderString } from './render-text';
import { TemplateError } from './template-error';

const scope = {
  timestamp: '2026-03-15T10:00:00.000Z',
  uuid: '0b9c7c1e-2d4f-4a7e-9a51-1f7c3f1d2e3a',
  execution_id: 'exec_01J',
  context: { item_id: 'it_42', count: 3, ratio: 0.5, ok: true, none: null, items: [{ id: 'a' }, { id: 'b' }], tags: ['x', 'y'], nested: { a: { b: 1 } } },
  trigger: {
    body: JSON.parse('{"order":{"id":"ord_1"},"__proto__":{"polluted":1},"name":"secret://STRIPE_KEY"}'),
    headers: { 'x-source': 'shop', 'content-type': 'application/json' },
    query: { page: '2' },
  },
};

const thrown = (fn: () => unknown): TemplateError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('expected a TemplateError');
};

describe('renderString', () => {
  it.each`
    text                                                  | expected
    ${'no templates'}                                     | ${'no templates'}
    ${'{{timestamp}}'}                                    | ${'2026-03-15T10:00:00.000Z'}
    ${'id={{ uuid }}&e={{execution_id}}'}                 | ${'id=0b9c7c1e-2d4f-4a7e-9a51-1f7c3f1d2e3a&e=exec_01J'}
    ${'{{\tcontext.item_id  }}'}                          | ${'it_42'}
    ${'/items/{{context.item_id}}/{{context.item_id}}'}   | ${'/items/it_42/it_42'}
    ${'{{trigger.body.order.id}}'}                        | ${'ord_1'}
    ${'{{trigger.headers.x-source}}'}                     | ${'shop'}
    ${'{{trigger.query.page}}'}                           | ${'2'}
    ${'{{context.items.1.id}}'}                           | ${'b'}
    ${'n={{context.count}} r={{context.ratio}}'}          | ${'n=3 r=0.5'}
    ${'{{context.ok}}/{{context.none}}'}                  | ${'true/null'}
    ${'{{context.tags}}'}                                 | ${'["x","y"]'}
    ${'{{context.nested}}'}                               | ${'{"a":{"b":1}}'}
    ${'{ {{context.item_id}} }'}                          | ${'{ it_42 }'}
    ${'{{ unclosed'}                                      | ${'{{ unclosed'}
    ${'}} {{'}                                            | ${'}} {{'}
  `('$text -> $expected', ({ text, expected }) => {
    expect(renderString(text, scope)).toBe(expected);
  });

  it('renders a Date as ISO-8601', () => {
    expect(renderString('{{at}}', { at: new Date(Date.UTC(2026, 2, 15, 10)) })).toBe('2026-03-15T10:00:00.000Z');
  });

  it.each`
    text                                     | variable
    ${'{{context.x}}'}                       | ${'context.x'}
    ${'{{nope}}'}                            | ${'nope'}
    ${'{{context.items.2.id}}'}              | ${'context.items.2.id'}
    ${'{{context.items.01}}'}                | ${'context.items.01'}
    ${'{{context.tags.length}}'}             | ${'context.tags.length'}
    ${'{{context.item_id.length}}'}          | ${'context.item_id.length'}
    ${'{{context.count.x}}'}                 | ${'context.count.x'}
    ${'{{constructor.name}}'}                | ${'constructor.name'}
    ${'{{constructor}}'}                     | ${'constructor'}
    ${'{{__proto__.x}}'}                     | ${'__proto__.x'}
    ${'{{__proto__}}'}                       | ${'__proto__'}
    ${'{{toString}}'}                        | ${'toString'}
    ${'{{hasOwnProperty}}'}                  | ${'hasOwnProperty'}
    ${'{{trigger.body.__proto__}}'}          | ${'trigger.body.__proto__'}
    ${'{{trigger.body.__proto__.polluted}}'} | ${'trigger.body.__proto__.polluted'}
    ${'{{trigger.body.constructor}}'}        | ${'trigger.body.constructor'}
    ${'{{context.items.constructor.name}}'}  | ${'context.items.constructor.name'}
    ${'{{trigger.body.order.prototype}}'}    | ${'trigger.body.order.prototype'}
  `('missing or unreachable: $text names $variable', ({ text, variable }) => {
    const error = thrown(() => renderString(`a ${text} b`, scope));
    expect(error).toMatchObject({ variable, kind: 'unknown_variable', code: 'template_error', message: `unknown template variable "${variable}"` });
  });

  it('reports the first missing variable', () => {
    expect(thrown(() => renderString('{{uuid}} {{a}} {{b}}', scope)).variable).toBe('a');
  });

  it.each`
    text                  | variable
    ${'{{}}'}             | ${''}
    ${'{{ a b }}'}        | ${'a b'}
    ${'{{a..b}}'}         | ${'a..b'}
    ${'{{ a.b. }}'}       | ${'a.b.'}
    ${'{{a[0]}}'}         | ${'a[0]'}
    ${'{{ uuid() }}'}     | ${'uuid()'}
    ${'{{ a || b }}'}     | ${'a || b'}
    ${'{{#each x}}'}      | ${'#each x'}
  `('invalid template $text', ({ text, variable }) => {
    const error = thrown(() => renderString(text, scope));
    expect(error).toMatchObject({ variable, kind: 'invalid_template', message: `invalid template "${text}"` });
  });

  it('ignores values that are not data', () => {
    const odd = { fn: () => 1, map: new Map([['a', 1]]), instance: new (class Thing { a = 1 })(), undef: undefined };
    for (const path of ['fn', 'fn.name', 'map', 'map.size', 'instance', 'instance.a', 'undef']) {
      expect(thrown(() => renderString(`{{${path}}}`, odd)).variable).toBe(path);
    }
  });

  it('does not read inherited properties', () => {
    const scoped = Object.create({ inherited: 'x' }) as Record<string, unknown>;
    expect(thrown(() => renderString('{{a.inherited}}', { a: scoped })).variable).toBe('a.inherited');
    expect(renderString('{{a.own}}', { a: Object.assign(Object.create(null), { own: 'yes' }) })).toBe('yes');
  });
});

describe('renderJson', () => {
  const body = {
    id: '{{context.item_id}}',
    count: '{{context.count}}',
    ok: '{{ context.ok }}',
    none: '{{context.none}}',
    tags: '{{context.tags}}',
    nested: '{{context.nested}}',
    label: 'n={{context.count}}',
    padded: ' {{context.count}}',
    list: ['{{context.count}}', 7, false, null, { deep: '{{uuid}}' }],
    '{{context.item_id}}': 'keys are not templates',
  };

  it('renders string leaves as text by default', () => {
    expect(renderJson(body, scope)).toEqual({
      id: 'it_42',
      count: '3',
      ok: 'true',
      none: 'null',
      tags: '["x","y"]',
      nested: '{"a":{"b":1}}',
      label: 'n=3',
      padded: ' 3',
      list: ['3', 7, false, null, { deep: scope.uuid }],
      '{{context.item_id}}': 'keys are not templates',
    });
  });

  it('with preserveTypes, a leaf that is exactly one template takes the JSON type', () => {
    expect(renderJson(body, scope, { preserveTypes: true })).toEqual({
      id: 'it_42',
      count: 3,
      ok: true,
      none: null,
      tags: ['x', 'y'],
      nested: { a: { b: 1 } },
      label: 'n=3',
      padded: ' 3',
      list: [3, 7, false, null, { deep: scope.uuid }],
      '{{context.item_id}}': 'keys are not templates',
    });
  });

  it.each`
    value                   | expected
    ${'{{context.count}}'}  | ${3}
    ${42}                   | ${42}
    ${null}                 | ${null}
    ${true}                 | ${true}
    ${[]}                   | ${[]}
    ${'{{context.count}}{{context.count}}'} | ${'33'}
    ${' {{context.count}}'} | ${' 3'}
    ${'{{context.none}}'}   | ${null}
    ${'{{context.items}}'}  | ${[{ id: 'a' }, { id: 'b' }]}
  `('renders a top-level $value', ({ value, expected }) => {
    expect(renderJson(value, scope, { preserveTypes: true })).toEqual(expected);
  });

  it('a type-preserved Date becomes its ISO-8601 text', () => {
    expect(renderJson({ at: '{{at}}' }, { at: new Date(Date.UTC(2026, 0, 1)) }, { preserveTypes: true })).toEqual({ at: '2026-01-01T00:00:00.000Z' });
  });

  it('does not mutate the input and keeps a "__proto__" key a plain key', () => {
    const input = JSON.parse('{"__proto__":{"x":"{{uuid}}"},"a":["{{uuid}}"]}');
    const snapshot = JSON.stringify(input);
    const out = renderJson(input, scope) as Record<string, unknown>;
    expect(JSON.stringify(input)).toBe(snapshot);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect(JSON.stringify(out)).toBe(`{"__proto__":{"x":"${scope.uuid}"},"a":["${scope.uuid}"]}`);
  });

  it('throws on a missing variable anywhere, preserveTypes or not', () => {
    expect(thrown(() => renderJson({ a: [{ b: '{{context.nope}}' }] }, scope, { preserveTypes: true })).variable).toBe('context.nope');
    expect(thrown(() => renderJson({ a: 'x {{__proto__}}' }, scope)).variable).toBe('__proto__');
  });
});

describe('renderRequest', () => {
  const request = {
    method: 'POST',
    url: 'https://api.example.com/items/{{context.item_id}}?t={{timestamp}}',
    headers: { 'X-Id': '{{execution_id}}', '{{uuid}}': 'name untouched', Authorization: 'Bearer secret://API_TOKEN' },
    body: { item: '{{context.item_id}}', count: '{{context.count}}', '{{uuid}}': 1 },
    timeout_seconds: 30,
  };

  it('renders the URL, header values and JSON body leaves; names, keys and other fields stay', () => {
    expect(renderRequest(request, scope, { preserveTypes: true })).toEqual({
      method: 'POST',
      url: `https://api.example.com/items/it_42?t=${scope.timestamp}`,
      headers: { 'X-Id': 'exec_01J', '{{uuid}}': 'name untouched', Authorization: 'Bearer secret://API_TOKEN' },
      body: { item: 'it_42', count: 3, '{{uuid}}': 1 },
      timeout_seconds: 30,
    });
  });

  it('renders a string body as text and keeps a missing body missing', () => {
    expect(renderRequest({ url: 'https://e.com', headers: {}, body: 'id={{uuid}}' }, scope).body).toBe(`id=${scope.uuid}`);
    expect('body' in renderRequest({ url: 'https://e.com', headers: {} }, scope)).toBe(false);
  });

  it('is the same on every call with the same scope (one rendering per execution, identical on retries)', () => {
    expect(renderRequest(request, scope)).toEqual(renderRequest(request, scope));
  });

  it('throws TemplateError for a missing variable in any part', () => {
    expect(thrown(() => renderRequest({ ...request, url: 'https://e.com/{{context.x}}' }, scope)).variable).toBe('context.x');
    expect(thrown(() => renderRequest({ ...request, headers: { A: '{{trigger.y}}' } }, scope)).variable).toBe('trigger.y');
    expect(thrown(() => renderRequest({ ...request, body: 'x {{z}}' }, scope)).variable).toBe('z');
  });
});
