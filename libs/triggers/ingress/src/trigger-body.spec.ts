import fc from 'fast-check';
import { DEFAULT_BODY_LIMITS, parseTriggerBody } from './trigger-body';

const bytes = (text: string) => new TextEncoder().encode(text);
const ok = (body: unknown, contentType: string | null) => ({ ok: true, body, contentType });
const badBody = (problem: string) => ({
  ok: false,
  status: 400,
  code: 'validation_failed',
  message: `Invalid request: body ${problem}`,
  details: { fields: [{ field: 'body', message: problem }] },
});
const deepArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObjects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
/** What PostgreSQL's jsonb and text refuse: a NUL anywhere, and a surrogate without its partner. */
const unstorable = (s: string) => s.includes('\u0000') || /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
/** Every string and key of a parsed body, walked with a stack of its own. */
function strings(root: unknown): string[] {
  const out: string[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') out.push(v);
    else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        out.push(k);
        stack.push(child);
      }
    }
  }
  return out;
}

describe('parseTriggerBody: content types', () => {
  it.each<[string, string | Uint8Array, string | undefined, unknown]>([
    ['JSON object', '{"a":[1,"x",true,null]}', 'application/json', ok({ a: [1, 'x', true, null] }, 'application/json')],
    ['JSON with a charset, any case', '{"a":1}', 'Application/JSON; charset=utf-8', ok({ a: 1 }, 'application/json')],
    ['a +json suffix', '{"specversion":"1.0"}', 'application/cloudevents+json', ok({ specversion: '1.0' }, 'application/cloudevents+json')],
    ['a vendor +json with parameters', '[1]', 'application/vnd.github+json; charset=utf-8', ok([1], 'application/vnd.github+json')],
    ['a JSON scalar', '42', 'application/json', ok(42, 'application/json')],
    ['a JSON string', '"hi"', 'application/json', ok('hi', 'application/json')],
    ['an empty JSON body is null', '', 'application/json', ok(null, 'application/json')],
    ['a JSON body of only whitespace is null', ' \r\n\t', 'application/json', ok(null, 'application/json')],
    ['a UTF-8 BOM before JSON is dropped', new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('{"a":1}')]), 'application/json', ok({ a: 1 }, 'application/json')],
    ['a form', 'a=1&b=x+y&c=%C3%A9', 'application/x-www-form-urlencoded', ok({ a: '1', b: 'x y', c: 'é' }, 'application/x-www-form-urlencoded')],
    ['a repeated form field is an array, in order', 'a=2&b=0&a=1&a=3', 'application/x-www-form-urlencoded', ok({ a: ['2', '1', '3'], b: '0' }, 'application/x-www-form-urlencoded')],
    ['form keys are kept as given (no nesting)', 'a[b]=1&a[b]=2&x.y=3', 'application/x-www-form-urlencoded; charset=UTF-8', ok({ 'a[b]': ['1', '2'], 'x.y': '3' }, 'application/x-www-form-urlencoded')],
    ['an empty form', '', 'application/x-www-form-urlencoded', ok({}, 'application/x-www-form-urlencoded')],
    ['a malformed form escape stays as it is', 'a=%zz&b=%', 'application/x-www-form-urlencoded', ok({ a: '%zz', b: '%' }, 'application/x-www-form-urlencoded')],
    ['text/plain', 'hello', 'text/plain', ok('hello', 'text/plain')],
    ['XML is text', '<a>1</a>', 'application/xml', ok('<a>1</a>', 'application/xml')],
    ['text/json is not JSON', '{"a":1}', 'text/json', ok('{"a":1}', 'text/json')],
    ['no content type: text, even when it looks like JSON', '{"a":1}', undefined, ok('{"a":1}', null)],
    ['no content type, empty body: the empty string', '', undefined, ok('', null)],
    ['a content type that is not a media type: text', '{"a":1}', 'json', ok('{"a":1}', null)],
    ['a blank content type', 'x', '  ', ok('x', null)],
    ['a content type with spaces inside', 'x', 'application/ json', ok('x', null)],
    ['a huge content type', 'x', `application/${'j'.repeat(10_000)}+json`, ok('x', null)],
  ])('%s', (_name, raw, contentType, expected) => {
    expect(parseTriggerBody(typeof raw === 'string' ? bytes(raw) : raw, contentType)).toEqual(expected);
  });
});

describe('parseTriggerBody: JSON that is not JSON is a 400, not text', () => {
  it.each([
    ['truncated', '{"a":'],
    ['a trailing comma', '[1,]'],
    ['single quotes', "{'a':1}"],
    ['plain text', 'hello'],
    ['two documents', '{} {}'],
    ['NaN', 'NaN'],
    ['binary garbage', '\u0000\u0001\u00ff'],
    ['an unterminated million brackets', '['.repeat(1_000_000)],
  ])('%s', (_name, text) => {
    expect(parseTriggerBody(bytes(text), 'application/json')).toEqual(badBody('is not valid JSON (content-type application/json)'));
  });

  it('names the media type it was labelled with', () => {
    expect(parseTriggerBody(bytes('nope'), 'application/vnd.api+json')).toEqual(badBody('is not valid JSON (content-type application/vnd.api+json)'));
  });

  it('does not echo the body in the message', () => {
    const refusal = parseTriggerBody(bytes('secret-token-123'), 'application/json');
    expect(refusal.ok).toBe(false);
    expect(JSON.stringify(refusal)).not.toContain('secret-token-123');
  });
});

describe('parseTriggerBody: size', () => {
  const MiB = 1024 * 1024;
  const tooLarge = { ok: false, status: 413, code: 'payload_too_large', message: `The body is larger than ${MiB} bytes`, details: null };

  it('takes exactly 1 MiB and refuses 1 MiB + 1 byte, whatever the content type', () => {
    expect(DEFAULT_BODY_LIMITS.maxBodyBytes).toBe(MiB);
    const exactly = new Uint8Array(MiB).fill(0x61);
    expect(parseTriggerBody(exactly, 'text/plain')).toEqual(ok('a'.repeat(MiB), 'text/plain'));
    for (const type of ['text/plain', 'application/json', 'application/x-www-form-urlencoded', undefined]) {
      expect(parseTriggerBody(new Uint8Array(MiB + 1).fill(0x61), type)).toEqual(tooLarge);
    }
  });

  it('a 1 MiB JSON document parses', () => {
    const text = `["${'x'.repeat(MiB - 4)}"]`;
    expect(bytes(text).byteLength).toBe(MiB);
    expect(parseTriggerBody(bytes(text), 'application/json')).toEqual(ok(['x'.repeat(MiB - 4)], 'application/json'));
  });

  it('honours its own limit', () => {
    expect(parseTriggerBody(bytes('12345'), 'text/plain', { maxBodyBytes: 4 })).toEqual({ ...tooLarge, message: 'The body is larger than 4 bytes' });
    expect(parseTriggerBody(bytes('1234'), 'text/plain', { maxBodyBytes: 4 })).toEqual(ok('1234', 'text/plain'));
  });
});

describe('parseTriggerBody: depth and member count', () => {
  it.each([
    ['arrays at the limit (64)', deepArrays(64), true],
    ['arrays one past it', deepArrays(65), false],
    ['objects at the limit', deepObjects(64), true],
    ['objects one past it', deepObjects(65), false],
    ['20,000 levels', deepArrays(20_000), false],
    ['500,000 levels (1 MiB)', deepArrays(500_000), false],
  ])('%s', (_name, text, accepted) => {
    const parsed = parseTriggerBody(bytes(text), 'application/json');
    if (accepted) expect(parsed.ok).toBe(true);
    else expect(parsed).toEqual(badBody('must not nest deeper than 64 levels'));
  });

  it('a scalar is depth 0 and [] is depth 1', () => {
    expect(parseTriggerBody(bytes('1'), 'application/json', { maxDepth: 0 }).ok).toBe(true);
    expect(parseTriggerBody(bytes('[]'), 'application/json', { maxDepth: 0 })).toEqual(badBody('must not nest deeper than 0 levels'));
    expect(parseTriggerBody(bytes('[]'), 'application/json', { maxDepth: 1 }).ok).toBe(true);
  });

  it.each([
    ['10,000 array elements', `[${Array(10_000).fill(0).join(',')}]`, true],
    ['10,001 array elements', `[${Array(10_001).fill(0).join(',')}]`, false],
    ['10,001 keys', JSON.stringify(Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, i]))), false],
    ['keys and elements add up across levels (2 keys + 9,998 elements)', JSON.stringify({ a: Array(5_000).fill(0), b: Array(4_998).fill(0) }), true],
    ['…one more is too many', JSON.stringify({ a: Array(5_000).fill(0), b: Array(4_999).fill(0) }), false],
  ])('%s', (_name, text, accepted) => {
    const parsed = parseTriggerBody(bytes(text), 'application/json');
    if (accepted) expect(parsed.ok).toBe(true);
    else expect(parsed).toEqual(badBody('must have at most 10000 keys and array elements in all'));
  });

  it('caps the fields of a form too', () => {
    expect(parseTriggerBody(bytes(Array(10_000).fill('a=1').join('&')), 'application/x-www-form-urlencoded').ok).toBe(true);
    expect(parseTriggerBody(bytes('&a'.repeat(10_001)), 'application/x-www-form-urlencoded')).toEqual(badBody('must have at most 10000 form fields'));
    // A megabyte of `a&a&…`: refused, not half a million keys.
    expect(parseTriggerBody(new Uint8Array(1024 * 1024).fill(0x26).map((b, i) => (i % 2 ? b : 0x61)), 'application/x-www-form-urlencoded')).toEqual(
      badBody('must have at most 10000 form fields'),
    );
  });
});

describe('parseTriggerBody: keys that name prototypes are plain data', () => {
  it.each([
    ['__proto__', '{"__proto__":{"polluted":true},"a":1}', ['__proto__', 'a']],
    ['constructor.prototype', '{"constructor":{"prototype":{"polluted":true}}}', ['constructor']],
    ['nested __proto__', '{"x":[{"__proto__":{"polluted":true}}]}', ['x']],
  ])('%s', (_name, text, keys) => {
    const parsed = parseTriggerBody(bytes(text), 'application/json');
    if (!parsed.ok) throw new Error('expected a body');
    const body = parsed.body as Record<string, unknown>;
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect(Object.keys(body)).toEqual(keys);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(JSON.parse(JSON.stringify(body))).toEqual(JSON.parse(text));
  });

  it('__proto__ stays own data after NUL replacement copies the value', () => {
    const parsed = parseTriggerBody(bytes('{"__proto__":{"x":"\\u0000"}}'), 'application/json');
    if (!parsed.ok) throw new Error('expected a body');
    expect(Object.getPrototypeOf(parsed.body)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(parsed.body, '__proto__')?.value).toEqual({ x: '\uFFFD' });
  });

  it('a form field named __proto__ is an own key', () => {
    const parsed = parseTriggerBody(bytes('__proto__=1&constructor=2'), 'application/x-www-form-urlencoded');
    if (!parsed.ok) throw new Error('expected a body');
    expect(Object.getPrototypeOf(parsed.body)).toBe(Object.prototype);
    expect(Object.keys(parsed.body as object)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(parsed.body, '__proto__')?.value).toBe('1');
  });
});

describe('parseTriggerBody: what PostgreSQL cannot store becomes U+FFFD', () => {
  it.each<[string, Uint8Array, string | undefined, unknown]>([
    ['an escaped NUL in a JSON value', bytes('{"a":"x\\u0000y"}'), 'application/json', { a: 'x\uFFFDy' }],
    ['an escaped NUL in a JSON key', bytes('{"k\\u0000":1}'), 'application/json', { 'k\uFFFD': 1 }],
    ['a lone surrogate escape', bytes('["\\ud800","\\udfff"]'), 'application/json', ['\uFFFD', '\uFFFD']],
    ['a surrogate pair is kept', bytes('["\\ud83d\\ude00"]'), 'application/json', ['\ud83d\ude00']],
    ['invalid UTF-8 inside a JSON string', new Uint8Array([0x22, 0xff, 0xfe, 0x22]), 'application/json', '\uFFFD\uFFFD'],
    ['a raw NUL in text', new Uint8Array([0x61, 0x00, 0x62]), 'text/plain', 'a\uFFFDb'],
    ['invalid UTF-8 in text', new Uint8Array([0x61, 0xc3, 0x28, 0xed, 0xa0, 0x80]), undefined, 'a\uFFFD(\uFFFD\uFFFD\uFFFD'],
    ['binary garbage as text', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00]), 'image/png', '\uFFFDPNG\r\n\u001a\n\uFFFD'],
    ['%00 in a form', bytes('a%00=%00&b=%ED%A0%80'), 'application/x-www-form-urlencoded', { 'a\uFFFD': '\uFFFD', b: '\uFFFD\uFFFD\uFFFD' }],
  ])('%s', (_name, raw, contentType, body) => {
    const parsed = parseTriggerBody(raw, contentType);
    expect(parsed).toEqual({ ok: true, body, contentType: contentType?.split(';')[0] ?? null });
    if (parsed.ok) expect(strings(parsed.body).filter(unstorable)).toEqual([]);
  });
});

describe('parseTriggerBody: properties (fast-check)', () => {
  const contentTypes = fc.oneof(
    fc.constantFrom(undefined, 'application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/cloudevents+json', 'multipart/form-data; boundary=x', ''),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
  );
  const raw = fc.oneof(
    fc.uint8Array({ maxLength: 512 }),
    fc.jsonValue({ maxDepth: 6 }).map((v) => bytes(JSON.stringify(v))),
    fc.string({ unit: 'binary', maxLength: 200 }).map(bytes),
    fc.array(fc.tuple(fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 8 }).map((pairs) => bytes(new URLSearchParams(pairs).toString())),
  );

  it('never throws, and whatever it keeps is storable', () => {
    fc.assert(
      fc.property(raw, contentTypes, (body, contentType) => {
        const parsed = parseTriggerBody(body, contentType, { maxBodyBytes: 400 });
        if (!parsed.ok) {
          expect([400, 413]).toContain(parsed.status);
          return;
        }
        expect(strings(parsed.body).filter(unstorable)).toEqual([]);
        expect(() => JSON.stringify(parsed.body)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it('any JSON value labelled JSON comes back equal (nothing to replace, within the limits)', () => {
    const safe = fc.jsonValue({ maxDepth: 6 }).filter((v) => !unstorable(JSON.stringify(v)));
    fc.assert(
      fc.property(safe, (value) => {
        expect(parseTriggerBody(bytes(JSON.stringify(value)), 'application/json')).toEqual(ok(JSON.parse(JSON.stringify(value)), 'application/json'));
      }),
    );
  });
});
