import { MAX_JSON_DEPTH, inspectBody, inspectUrl, unstorableText } from './hostile-input';

const nested = (levels: number): unknown => {
  // Built iteratively: the point is a value no recursive walker could get through.
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = i % 2 ? [value] : { a: value };
  return value;
};

describe('unstorableText', () => {
  it.each([
    ['a\u0000b', 'contains a NUL character (U+0000), which cannot be stored'],
    ['\uD800', 'contains a lone UTF-16 surrogate (U+D800), which is not text'],
    ['x\uDFFFy', 'contains a lone UTF-16 surrogate (U+DFFF), which is not text'],
    ['\uDC00\uD800', 'contains a lone UTF-16 surrogate (U+DC00), which is not text'],
  ])('refuses %j', (text, why) => {
    expect(unstorableText(text)).toBe(why);
  });

  it.each(['', 'plain', '\uD83D\uDE00 a pair', 'tab\tand\nnewline', 'é€'])('accepts %j', (text) => {
    expect(unstorableText(text)).toBeNull();
  });
});

describe('inspectBody', () => {
  it('refuses nesting past the limit without recursing, however deep', () => {
    expect(inspectBody(nested(MAX_JSON_DEPTH), { text: true })).toBeNull();
    const problem = { field: 'body', message: `nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels` };
    expect(inspectBody(nested(MAX_JSON_DEPTH + 1), { text: true })).toEqual(problem);
    expect(inspectBody(nested(1_000_000), { text: false })).toEqual(problem);
  });

  it('names the field of a string or key that cannot be stored', () => {
    expect(inspectBody({ request: { headers: { 'x-a': 'v\u0000' } } }, { text: true })).toEqual({
      field: 'request.headers.x-a',
      message: 'contains a NUL character (U+0000), which cannot be stored',
    });
    expect(inspectBody({ steps: [{ id: 'a' }, { body: ['ok', '\uD800'] }] }, { text: true })?.field).toBe('steps[1].body[1]');
    expect(inspectBody({ ctx: { 'k\u0000': 'v' } }, { text: true })).toEqual({ field: 'ctx["k\\u0000"]', message: 'is a key that contains a NUL character (U+0000), which cannot be stored' });
    expect(inspectBody('text\u0000', { text: true })?.field).toBe('body');
  });

  it('lets any text through where the route takes any text, but never any depth', () => {
    expect(inspectBody({ a: '\u0000\uD800' }, { text: false })).toBeNull();
    expect(inspectBody(nested(100), { text: false })).not.toBeNull();
  });

  it('walks only parsed JSON: a proxied Buffer body is left alone', () => {
    expect(inspectBody(Buffer.from('\u0000'), { text: true })).toBeNull();
    expect(inspectBody(undefined, { text: true })).toBeNull();
  });
});

describe('inspectUrl', () => {
  it('refuses control characters in path ids and unstorable text in the query', () => {
    expect(inspectUrl({}, { id: 'job_\u0000' })).toEqual([{ field: 'id', message: 'must not contain control characters or lone surrogates' }]);
    expect(inspectUrl({}, { id: 'a\nb' })).toHaveLength(1);
    expect(inspectUrl({ job_id: ['ok', 'x\u0000'] }, {})).toEqual([{ field: 'query.job_id', message: 'contains a NUL character (U+0000), which cannot be stored' }]);
    expect(inspectUrl({ 'k\uD800': 'v' }, {})).toHaveLength(1);
  });

  it('accepts what an id or a filter may be', () => {
    expect(inspectUrl({ job_name: 'tab\there é', limit: '5' }, { id: 'job_01J0000000000000000000000', token: 'exec_x.abc-_' })).toEqual([]);
  });
});
