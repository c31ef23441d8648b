import { NO_REDACTION, REDACTED, redactSecrets, secretRedactor } from './secret-redaction';

// Every character that one encoder or another treats specially: `/ + = & < > " ' ~ % !` and a space.
const SECRET = `S3cr/t+Q=&<x>"y'z~ %!`;

// The encodings are spelled out here by the encoders themselves (or by hand), not by the redactor's
// own list, so a spelling the redactor forgets fails.
const json = (v: string) => JSON.stringify(v).slice(1, -1);
const everyCharU = (v: string) =>
  v
    .split('')
    .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .join('');
const goJson = (v: string) => json(v).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
const escapeHtml = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const b64 = (v: string) => Buffer.from(v).toString('base64');

describe('secretRedactor: every spelling an echo commonly uses', () => {
  it.each([
    ['raw', SECRET],
    ['JSON string (JSON.stringify)', json(SECRET)],
    ['JSON string with \\/ (PHP json_encode)', json(SECRET).replaceAll('/', '\\/')],
    ['JSON string with <>& as \\u00XX (Go encoding/json)', goJson(SECRET)],
    ['every character as \\uXXXX', everyCharU(SECRET)],
    ['every character as \\uXXXX, upper-case hex', everyCharU(SECRET).replace(/[a-f]/g, (c) => c.toUpperCase())],
    ['encodeURIComponent', encodeURIComponent(SECRET)],
    ['encodeURIComponent, lower-case hex', encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
    ['form encoding (URLSearchParams, + for a space)', new URLSearchParams({ v: SECRET }).toString().slice(2)],
    ['base64', b64(SECRET)],
    ['base64 without padding', b64(SECRET).replace(/=+$/, '')],
    ['base64url', Buffer.from(SECRET).toString('base64url')],
    ['HTML (&quot; &#39;)', escapeHtml(SECRET)],
    ['HTML (&#x27;, Python html.escape)', escapeHtml(SECRET).replace(/&#39;/g, '&#x27;')],
    ['HTML (&#34;, Go html.EscapeString)', escapeHtml(SECRET).replace(/&quot;/g, '&#34;')],
  ])('%s', (_encoding, spelled) => {
    const redactor = secretRedactor([SECRET]);
    expect(redactor.text(`before ${spelled} after`)).toBe(`before ${REDACTED} after`);
    expect(redactor.text(spelled)).toBe(REDACTED);
  });

  it.each([
    ['Basic auth, user of 0 bytes', ''],
    ['Basic auth, user of 1 byte', 'a'],
    ['Basic auth, user of 2 bytes', 'ab'],
    ['Basic auth, user of 3 bytes', 'abc'],
  ])('inside a longer base64 text at any offset: %s', (_case, user) => {
    for (const alphabet of ['base64', 'base64url'] as const) {
      for (const tail of ['', '!', '!?', '!?#']) {
        const encoded = Buffer.from(`${user}:${SECRET}${tail}`).toString(alphabet);
        const redacted = secretRedactor([SECRET]).text(`Basic ${encoded}`);
        expect(redacted).toContain(REDACTED);
        // At most the 3 characters on each side that mix the secret's bits with its neighbours' stay.
        const [before, after] = redacted.slice('Basic '.length).split(REDACTED);
        expect(before.length).toBeLessThanOrEqual(Math.ceil(((user.length + 1) * 4) / 3));
        expect(after.length).toBeLessThanOrEqual(Math.ceil((tail.length * 4) / 3) + 3);
        expect(Buffer.from(redacted.replace(REDACTED, ''), alphabet).toString('latin1')).not.toContain(SECRET.slice(0, 4));
      }
    }
  });

  it('inside a JWT payload (base64url of JSON)', () => {
    const token = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: 'ada', key: SECRET })).toString('base64url')}.c2ln`;
    const redacted = secretRedactor([SECRET]).text(token);
    expect(redacted).toContain(REDACTED);
    expect(redacted).not.toContain(Buffer.from(JSON.stringify({ key: SECRET })).toString('base64url').slice(8, 20));
  });

  it('the bytes a Latin-1 header value became, read back as UTF-8 (a legacy non-ASCII value)', () => {
    const legacy = 'pässwörd-123';
    const echoed = Buffer.from(legacy, 'latin1').toString('utf8'); // what the platform reads from an echo
    expect(echoed).not.toBe(legacy);
    expect(secretRedactor([legacy]).text(`got ${echoed}`)).toBe(`got ${REDACTED}`);
    expect(secretRedactor([legacy]).text(`got ${legacy}`)).toBe(`got ${REDACTED}`);
  });
});

describe('secretRedactor.text', () => {
  it.each([
    ['one value, every occurrence', 'a tok-12345 b tok-12345', ['tok-12345'], 'a [redacted] b [redacted]'],
    ['several values', '{"auth":"tok-12345","user":"adalovelace"}', ['tok-12345', 'adalovelace'], '{"auth":"[redacted]","user":"[redacted]"}'],
    ['nested values: the longer wins', 'key=abcdefgh-ij', ['abcdefgh', 'abcdefgh-ij'], 'key=[redacted]'],
    ['overlapping values: one marker, no tail of either', 'x abcdefghijkl y', ['abcdefgh', 'efghijkl'], 'x [redacted] y'],
    ['overlapping encodings of two values', `x ${encodeURIComponent('ab cd ef gh')}`, ['ab cd ef', 'ef gh'], 'x [redacted]'],
    ['adjacent values stay two markers', 'abcdefgh12345678', ['abcdefgh', '12345678'], '[redacted][redacted]'],
    ['regex characters are literal', 'x a.b*c+d? y axbbbcdd', ['a.b*c+d?'], 'x [redacted] y axbbbcdd'],
    ['a value shorter than 8 (stored before the rule) is still redacted', 'on and on, 42', ['on', '42'], '[redacted] and [redacted], [redacted]'],
    ['a value that is part of the marker is not re-applied', 'zzzz edac', ['zzzz', 'edac'], '[redacted] [redacted]'],
    ['a literal marker in the text stays', 'said [redacted] to me', ['tok-12345'], 'said [redacted] to me'],
    ['empty values are ignored', 'abc', ['', 'tok-12345'], 'abc'],
    ['empty text', '', ['tok-12345'], ''],
  ])('%s', (_case, text, values, expected) => {
    expect(secretRedactor(values).text(text)).toBe(expected);
    expect(redactSecrets(text, values)).toBe(expected);
  });

  it('is idempotent, even with a legacy value that is part of the marker', () => {
    const redactor = secretRedactor(['red', 'secret-value']);
    const once = redactor.text('a red secret-value b');
    expect(once).toBe('a [redacted] [redacted] b');
    expect(redactor.text(once)).toBe(once);
  });

  it('leaves no trace of a long value', () => {
    const value = 'v'.repeat(5000) + '$';
    expect(secretRedactor([value]).text(`<${value}>`)).toBe('<[redacted]>');
  });

  it('with no values it is the identity and scans nothing', () => {
    expect(secretRedactor([])).toBe(NO_REDACTION);
    expect(secretRedactor([''])).toBe(NO_REDACTION);
    const value = { a: 1 };
    expect(NO_REDACTION.value(value)).toBe(value);
    expect(NO_REDACTION.active).toBe(false);
  });

  it('redacts a 1 MiB body in well under a second', () => {
    const redactor = secretRedactor([SECRET, 'another-secret-value', 'sk_live_0123456789']);
    const body = `${'lorem ipsum dolor sit amet, '.repeat(37_450)}${SECRET}`;
    const started = performance.now();
    const redacted = redactor.text(body);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(redacted.endsWith(REDACTED)).toBe(true);
  });
});

describe('secretRedactor.value: after parsing', () => {
  const redactor = secretRedactor([SECRET]);

  it('catches a spelling that only parsing reveals (\\u escapes, mixed with plain characters)', () => {
    const mixed = `S\\u0033cr/t+Q=&<x>\\"y'z~ %!`;
    const body = `{"echo":"${mixed}","all":"${everyCharU(SECRET)}"}`;
    // As text, a mixed spelling is not one of the encoders' outputs…
    expect(redactor.text(body)).toContain('\\u0033cr');
    // …but once parsed it is the plain value.
    expect(redactor.value(JSON.parse(body))).toEqual({ echo: REDACTED, all: REDACTED });
  });

  it('redacts keys, nested strings and numbers, and keeps everything else', () => {
    const numeric = secretRedactor(['12345678', SECRET]);
    const parsed = JSON.parse(JSON.stringify({ [SECRET]: 'key', list: [1, `x${SECRET}y`, { deep: [SECRET] }], n: 12345678, m: 9123456780, ok: true, none: null }));
    expect(numeric.value(parsed)).toEqual({
      [REDACTED]: 'key',
      list: [1, `x${REDACTED}y`, { deep: [REDACTED] }],
      n: REDACTED,
      m: `9${REDACTED}0`,
      ok: true,
      none: null,
    });
  });

  it('returns a copy and leaves its input alone', () => {
    const input = { a: [SECRET] };
    const out = redactor.value(input);
    expect(input).toEqual({ a: [SECRET] });
    expect(out).toEqual({ a: [REDACTED] });
  });

  it('keeps a key named __proto__ as an own key', () => {
    const out = redactor.value(JSON.parse(`{"__proto__":"${json(SECRET)}"}`)) as Record<string, unknown>;
    expect(Object.getOwnPropertyNames(out)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out['__proto__']).toBe(REDACTED);
  });

  it('walks 100,000 levels of nesting without overflowing the stack', () => {
    let nested: unknown = SECRET;
    for (let i = 0; i < 100_000; i++) nested = i % 2 ? [nested] : { k: nested };
    let out = redactor.value(nested);
    for (let i = 99_999; i >= 0; i--) out = i % 2 ? (out as unknown[])[0] : (out as Record<string, unknown>).k;
    expect(out).toBe(REDACTED);
  });

  it('strings and scalars at the top level', () => {
    expect(redactor.value(`a ${SECRET}`)).toBe(`a ${REDACTED}`);
    expect(redactor.value(null)).toBeNull();
    expect(redactor.value(true)).toBe(true);
  });
});

describe('secretRedactor.text on a text cut short (a body read up to the size limit)', () => {
  const redactor = secretRedactor([SECRET]);

  it.each([
    ['the raw value cut after 1 character', `body ${SECRET.slice(0, 1)}`],
    ['the raw value cut after 5 characters', `body ${SECRET.slice(0, 5)}`],
    ['the raw value cut one before its end', `body ${SECRET.slice(0, -1)}`],
    ['its percent-encoding cut', `body ${encodeURIComponent(SECRET).slice(0, 9)}`],
    ['its base64 cut', `body ${b64(SECRET).slice(0, 6)}`],
  ])('redacts %s', (_case, text) => {
    expect(redactor.text(text, { cut: true })).toBe(`body ${REDACTED}`);
  });

  it('leaves the end alone when the text was not cut, or ends in no beginning of a secret', () => {
    expect(redactor.text(`body ${SECRET.slice(0, 5)}`)).toBe(`body ${SECRET.slice(0, 5)}`);
    expect(redactor.text('body xyz', { cut: true })).toBe('body xyz');
    expect(redactor.text(`a ${SECRET} b ${SECRET}`, { cut: true })).toBe(`a ${REDACTED} b ${REDACTED}`);
  });
});
