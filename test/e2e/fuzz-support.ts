import fc from 'fast-check';

/**
 * Hostile requests derived from the served OpenAPI document: for every operation, every field of
 * its body (at any depth the schema or a valid example reaches), every path and query parameter.
 * A request starts from a valid value of the operation's body, so a hostile value in one field
 * reaches the code behind validation (the database, the event store) instead of being refused
 * for another field first.
 */

export type Schema = Record<string, any>;
export type Segment = string | number;

export interface Operation {
  readonly method: string;
  readonly path: string;
  readonly public: boolean;
  readonly pathParams: string[];
  readonly queryParams: Array<{ name: string; schema: Schema }>;
  readonly bodySchema: Schema | null;
  readonly bodyTypes: string[];
}

export interface OpenApiDocument {
  readonly paths: Record<string, Record<string, Schema>>;
  readonly components: { schemas: Record<string, Schema> };
}

export function operationsOf(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params: Schema[] = op.parameters ?? [];
      const content: Record<string, Schema> = op.requestBody?.content ?? {};
      out.push({
        method: method.toUpperCase(),
        path,
        public: !Array.isArray(op.security) || op.security.length === 0,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        bodySchema: content['application/json']?.schema ?? null,
        bodyTypes: Object.keys(content),
      });
    }
  }
  return out;
}

export function resolve(doc: OpenApiDocument, schema: Schema | undefined): Schema {
  let s = schema ?? {};
  for (let i = 0; i < 10 && typeof s.$ref === 'string'; i++) s = doc.components.schemas[s.$ref.split('/').pop()!] ?? {};
  if (Array.isArray(s.allOf)) return s.allOf.reduce((acc: Schema, part: Schema) => mergeSchemas(acc, resolve(doc, part)), { ...s, allOf: undefined });
  return s;
}

const mergeSchemas = (a: Schema, b: Schema): Schema => ({ ...a, ...b, properties: { ...(a.properties ?? {}), ...(b.properties ?? {}) } });

/** A plausible value of `schema`: its example, default or first enum value, else one of its type. */
export function sampleOf(doc: OpenApiDocument, schema: Schema | undefined, depth = 0): unknown {
  const s = resolve(doc, schema);
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (Array.isArray(s.enum)) return s.enum[0];
  if (Array.isArray(s.oneOf)) return sampleOf(doc, s.oneOf[0], depth + 1);
  if (depth > 6) return null;
  switch (s.type) {
    case 'string':
      return s.format === 'date-time' ? '2030-01-01T00:00:00.000Z' : 'x';
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return [sampleOf(doc, s.items, depth + 1)];
    default: {
      if (!s.properties) return {};
      return Object.fromEntries(Object.entries(s.properties as Record<string, Schema>).map(([k, v]) => [k, sampleOf(doc, v, depth + 1)]));
    }
  }
}

/** Every path into `value` (objects and arrays), and every property path the schema names. */
export function pathsOf(doc: OpenApiDocument, schema: Schema | null, value: unknown): Segment[][] {
  const seen = new Map<string, Segment[]>();
  const add = (p: Segment[]) => seen.set(JSON.stringify(p), p);
  const walkValue = (v: unknown, at: Segment[]) => {
    if (at.length > 0) add(at);
    if (Array.isArray(v)) v.forEach((item, i) => walkValue(item, [...at, i]));
    else if (v !== null && typeof v === 'object') for (const [k, item] of Object.entries(v)) walkValue(item, [...at, k]);
  };
  const walkSchema = (s: Schema | undefined, at: Segment[], depth: number) => {
    const r = resolve(doc, s);
    if (depth > 4) return;
    if (at.length > 0) add(at);
    for (const [k, v] of Object.entries((r.properties ?? {}) as Record<string, Schema>)) walkSchema(v, [...at, k], depth + 1);
    // A free-form map: its keys are the user's, so a new key is a field too.
    if (r.additionalProperties) add([...at, 'x-fuzz']);
    if (r.type === 'array') for (const [i, variant] of (resolve(doc, r.items).oneOf ?? [r.items]).entries()) walkSchema(variant, [...at, i], depth + 1);
  };
  walkValue(value, []);
  if (schema) walkSchema(schema, [], 0);
  return [...seen.values()];
}

/** Sets `value` at `path` in a copy of `root`, as an own property even for keys like `__proto__`. */
export function setAt(root: unknown, path: Segment[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const container = (
    root !== null && typeof root === 'object' ? (Array.isArray(root) ? [...root] : { ...(root as object) }) : typeof head === 'number' ? [] : {}
  ) as Record<string | number, unknown>;
  Object.defineProperty(container, head, {
    value: setAt(container[head as string], rest, value),
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return container;
}

/** Replaced after JSON.stringify by JSON nested this deep: building it as a value would hit the stack. */
export const DEEP = (levels: number, shape: 'array' | 'object') => `\u0001deep:${shape}:${levels}\u0001`;
export function expandDeep(json: string): string {
  return json.replace(/"\\u0001deep:(array|object):(\d+)\\u0001"/g, (_m, shape: string, n: string) => {
    const levels = Number(n);
    return shape === 'array' ? '['.repeat(levels) + ']'.repeat(levels) : '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
  });
}

const protoKeyed = (key: string, value: unknown) => JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}}`) as object;

/** Strings PostgreSQL, HTTP headers or a careless parser cannot take. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\uD800',
    'x\uDFFFy',
    '\uDC00\uD800',
    '\uD83D\uDE00 valid pair',
    '%00',
    'a\r\nX-Injected: 1',
    '\n',
    '\u0007\u001b[31m',
    '\u007f',
    'é',
    '€ outside latin-1',
    '\u202e',
    '',
    ' ',
    '{{',
    '{{context.missing}}',
    '{{__proto__}}',
    'secret://',
    '$..*',
    "'; drop table jobs; --",
    '../../../etc/passwd',
    '%2e%2e/%2e%2e',
    'constructor',
    '__proto__',
    'prototype',
    'hasOwnProperty',
    '275760-09-13T00:00:00.001Z',
  ),
  fc.integer({ min: 1_000, max: 300_000 }).map((n) => 'a'.repeat(n)),
  fc.tuple(fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('\u0000', '\uD800', '\uDFFF', '\r\n'), fc.string({ unit: 'binary', maxLength: 8 })).map((p) => p.join('')),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

export const oddNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(-1, 0, 0.5, 1e308, -1e308, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e-320, 1e21),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

export const oddDate: fc.Arbitrary<string> = fc.constantFrom(
  '275760-09-13T00:00:00.000Z',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  '+010000-01-01T00:00:00.000Z',
  '0000-01-01T00:00:00.000Z',
  '-000001-01-01T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  '10000-01-01',
  '2026-02-30T00:00:00Z',
  '2026-13-01',
  '1970-01-01T00:00:00.000Z',
  '1e400',
  '8640000000000001',
  'now',
);

/** Any hostile JSON value; DEEP placeholders become nesting past any recursion limit. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: oddNumber },
  { weight: 1, arbitrary: oddDate },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 1_500, max: 20_000 }), fc.constantFrom('array' as const, 'object' as const)).map(([n, s]) => DEEP(n, s)) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [1, 'a', null], { a: { b: [] } }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'), fc.oneof(fc.constant({ prototype: { polluted: 1 } }), fc.constant('x'), fc.constant({})))
      .map(([k, v]) => protoKeyed(k, v)),
  },
  { weight: 1, arbitrary: fc.dictionary(hostileString, fc.oneof(hostileString, fc.constant('v')), { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 3 }) },
);

/** Text for a URL: encoded when it can be, else a raw escape that no decoder accepts as text. */
export const hostileUrlPart: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('%00', '%ZZ', '%', '%ED%A0%80', '%C0%AF', '%FF', '%E2%82', '%0A', '%0D%0A', '%7F', '%2e%2e', '%u0000', 'x%00y', '%2F', '+'),
  hostileString.map(percentEncode),
  oddDate.map(percentEncode),
  oddNumber.map((n) => percentEncode(String(n))),
  fc.constantFrom('1e400', '-1', '0x10', 'NaN', 'Infinity', '1.5', ' 5', '', 'true', '[]'),
);

/** encodeURIComponent, except that a lone surrogate (which it refuses) goes out as its WTF-8 bytes. */
export function percentEncode(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) out += Buffer.from([0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]).toString('hex').replace(/../g, '%$&').toUpperCase();
    else out += encodeURIComponent(ch);
  }
  return out;
}

/** A short, printable description of a value for failure reports (never the 300 KB string itself). */
export function describeValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const shown = text.length > 120 ? `${text.slice(0, 100)}…(${text.length} chars)` : text;
  return JSON.stringify(shown);
}
