import { TemplateError } from '@trigrun/templating';
import { normalizeOutputTemplate, renderOutputTemplate } from './output-template';

const scope = { timestamp: '2026-03-15T10:00:00.000Z', uuid: 'u-1', execution_id: 'exec_1', context: { n: 2 } };
const body = JSON.stringify({ order: { id: 'ord_1', total: 12.5, lines: [{ sku: 'a' }, { sku: 'b' }] }, ok: true, none: null });

describe('renderOutputTemplate', () => {
  it('reads $.paths from the JSON body, renders templates, copies the rest', () => {
    const template = {
      order_id: '$.order.id',
      total: '$.order.total',
      skus: '$.order.lines[*].sku',
      first: "$['order'].lines[0]",
      whole: '$',
      ok: '$.ok',
      none: '$.none',
      missing: '$.order.nope',
      no_match: '$.order.lines[*].nope',
      ran_at: '{{timestamp}}',
      label: 'run {{execution_id}}',
      n: '{{context.n}}',
      price: '$5.00',
      literal: 7,
      flag: false,
      nothing: null,
      nested: { list: ['$.order.id', '{{uuid}}', 1] },
      '$.order.id': 'keys are not paths',
    };
    expect(renderOutputTemplate(template, body, scope)).toEqual({
      order_id: 'ord_1',
      total: 12.5,
      skus: ['a', 'b'],
      first: { sku: 'a' },
      whole: JSON.parse(body),
      ok: true,
      none: null,
      missing: null,
      no_match: null,
      ran_at: '2026-03-15T10:00:00.000Z',
      label: 'run exec_1',
      n: 2,
      price: '$5.00',
      literal: 7,
      flag: false,
      nothing: null,
      nested: { list: ['ord_1', 'u-1', 1] },
      '$.order.id': 'keys are not paths',
    });
  });

  it.each(['', 'not json', '<html></html>'])('reads every path as null when the body is %p', (text) => {
    expect(renderOutputTemplate({ a: '$.a', whole: '$', at: '{{timestamp}}' }, text, scope)).toEqual({ a: null, whole: null, at: scope.timestamp });
  });

  it('never reaches prototypes', () => {
    const evil = '{"__proto__":{"x":1},"a":{}}';
    expect(renderOutputTemplate({ p: '$.__proto__', c: '$.a.constructor', t: '$.a.toString' }, evil, scope)).toEqual({ p: null, c: null, t: null });
  });

  it('throws TemplateError for a missing variable', () => {
    expect(() => renderOutputTemplate({ a: '{{context.nope}}' }, body, scope)).toThrow(TemplateError);
  });
});

describe('normalizeOutputTemplate', () => {
  const F = 'response_output_template';
  const REQUEST = ['timestamp', 'uuid', 'execution_id'];

  it('accepts a valid template as is, and means "none" for undefined/null', () => {
    const template = { id: '$.order.id', at: '{{ timestamp }}', list: ['$.a[*]', { b: '{{uuid}}' }], n: 1 };
    expect(normalizeOutputTemplate(template, F, REQUEST)).toEqual({ value: template, problems: [] });
    expect(normalizeOutputTemplate(undefined, F, REQUEST)).toEqual({ problems: [] });
    expect(normalizeOutputTemplate(null, F, REQUEST)).toEqual({ problems: [] });
  });

  it('accepts roots when given allowed variables as roots', () => {
    expect(normalizeOutputTemplate({ a: '{{context.x}}' }, F, { exact: REQUEST, roots: ['context'] }).problems).toEqual([]);
  });

  it.each`
    input                                 | field                        | message
    ${'$.a'}                              | ${F}                         | ${'must be an object'}
    ${['$.a']}                            | ${F}                         | ${'must be an object'}
    ${{ a: '$..id' }}                     | ${`${F}.a`}                  | ${'is not a valid JSONPath: recursive descent (..) is not supported at position 1'}
    ${{ a: '$.items[?(@.x)]' }}           | ${`${F}.a`}                  | ${'is not a valid JSONPath: filter expressions are not supported at position 8'}
    ${{ a: { b: ['x', '$.'] } }}          | ${`${F}.a.b[1]`}             | ${"is not a valid JSONPath: expected a name after '.' (use ['…'] for other keys) at position 2"}
    ${{ a: '{{context.x}}' }}             | ${`${F}.a`}                  | ${'unknown template variable "context.x"; allowed: timestamp, uuid, execution_id'}
    ${{ a: ['{{ a b }}'] }}               | ${`${F}.a[0]`}               | ${'invalid template "{{ a b }}": a template holds one variable path (letters, digits, _ and -, joined by dots)'}
    ${{ a: '{{__proto__}}' }}             | ${`${F}.a`}                  | ${'template variable "__proto__" uses the reserved name "__proto__"'}
  `('$field $message', ({ input, field, message }) => {
    expect(normalizeOutputTemplate(input, F, REQUEST)).toEqual({ problems: [{ field, message }] });
  });

  it('refuses nesting deeper than it walks', () => {
    let deep: unknown = '$.a';
    for (let i = 0; i < 70; i++) deep = { d: deep };
    expect(normalizeOutputTemplate(deep, F, REQUEST).problems).toEqual([{ field: `${F}${'.d'.repeat(64)}`, message: 'is nested too deeply (at most 64 levels)' }]);
  });
});
