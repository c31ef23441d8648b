import { secretNamesIn, substituteSecrets } from './secret-references';

describe('secretNamesIn', () => {
  it.each([
    [{ authorization: 'Bearer secret://API_TOKEN' }, ['API_TOKEN']],
    [{ a: 'secret://one and secret://two', b: 'secret://one' }, ['one', 'two']],
    [{ 'secret://IN_NAME': 'plain' }, []],
    [{ a: 'secret://', b: 'secret:/x', c: 'SECRET://X' }, []],
    [{ a: 'x-secret://a.b-c_d.e!' }, ['a.b-c_d.e']],
    [{}, []],
  ])('%j → %j', (headers, names) => {
    expect(secretNamesIn(headers)).toEqual(names);
  });

  it('gives the same answer when called twice (no lastIndex carried over by the global pattern)', () => {
    const headers = { a: 'secret://k1' };
    expect(secretNamesIn(headers)).toEqual(['k1']);
    expect(secretNamesIn(headers)).toEqual(['k1']);
  });
});

describe('substituteSecrets', () => {
  const lookup = new Map([
    ['API_TOKEN', 'tok-123'],
    ['DOLLARS', '$&$1$$'],
    ['USER', 'ada'],
  ]);

  it.each([
    ['whole value', { authorization: 'secret://API_TOKEN' }, { authorization: 'tok-123' }, []],
    ['inside a value', { authorization: 'Bearer secret://API_TOKEN' }, { authorization: 'Bearer tok-123' }, []],
    ['several in one value', { a: 'secret://USER:secret://API_TOKEN' }, { a: 'ada:tok-123' }, []],
    ['missing stays literal', { a: 'Bearer secret://NOPE' }, { a: 'Bearer secret://NOPE' }, ['NOPE']],
    ['mixed', { a: 'secret://USER secret://NOPE', b: 'secret://NOPE secret://GONE' }, { a: 'ada secret://NOPE', b: 'secret://NOPE secret://GONE' }, ['NOPE', 'GONE']],
    ['replacement patterns are not interpreted', { a: 'x secret://DOLLARS y' }, { a: 'x $&$1$$ y' }, []],
    ['header names are never touched', { 'secret://USER': 'secret://USER' }, { 'secret://USER': 'ada' }, []],
    ['no references', { accept: 'application/json' }, { accept: 'application/json' }, []],
  ])('%s', (_case, headers, expected, missing) => {
    const result = substituteSecrets(headers, lookup);
    expect(result.headers).toEqual(expected);
    expect(result.missing).toEqual(missing);
  });

  it('leaves a reference injected through a rendered template literal when the lookup comes from the stored headers', () => {
    const stored = { authorization: 'Bearer secret://API_TOKEN', 'x-note': '{{trigger.body.note}}' };
    const rendered = { authorization: 'Bearer secret://API_TOKEN', 'x-note': 'secret://USER' };
    const wanted = new Map(secretNamesIn(stored).map((name) => [name, lookup.get(name)!]));
    expect(substituteSecrets(rendered, wanted)).toEqual({ headers: { authorization: 'Bearer tok-123', 'x-note': 'secret://USER' }, missing: ['USER'] });
  });

  it('does not modify its input', () => {
    const headers = { authorization: 'Bearer secret://API_TOKEN' };
    substituteSecrets(headers, lookup);
    expect(headers).toEqual({ authorization: 'Bearer secret://API_TOKEN' });
  });

  it('keeps a header named __proto__ as an own header', () => {
    const headers = JSON.parse('{"__proto__": "secret://USER"}') as Record<string, string>;
    const result = substituteSecrets(headers, lookup);
    expect(Object.getOwnPropertyNames(result.headers)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(result.headers)).toBe(Object.prototype);
  });
});
