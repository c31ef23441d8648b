/**
 * The one redaction step between a send and everything recorded of it (docs/secrets.md). Pure: the
 * caller hands in the values it substituted into the request; nothing here keeps them beyond the
 * redactor it returns.
 */

export const REDACTED = '[redacted]';

/**
 * Derived spellings cut out of a longer base64 text (see base64Cores) are only used when at least
 * this long: a core of 2 or 3 characters would match everywhere in any base64 blob. The raw value
 * and its whole-string encodings are always redacted, whatever their length.
 */
const MIN_BASE64_CORE_LENGTH = 8;

/** What a send's response goes through before anything of it is recorded or leaves the engine. */
export interface Redactor {
  /** False when the send used no secret: every method is then the identity (no copy, no scan). */
  readonly active: boolean;
  /**
   * Every occurrence of every spelling of every secret in `text` replaced by `[redacted]`, in one
   * pass: the longest spelling wins where several start, and overlapping finds become one marker.
   * `cut`: the text was cut short (a body read up to its size limit), so a spelling's beginning at
   * its very end is redacted too.
   */
  text(text: string, opts?: { cut?: boolean }): string;
  /**
   * A parsed JSON value (or anything built from one) with every key, string and number redacted
   * as `text` does. Catches what only parsing reveals, such as `\u0073k_…` in a JSON string.
   * Iterative, so a deeply nested body cannot overflow the stack. Returns the value itself when
   * it holds no secret, else a copy; a number that contains a secret becomes the redacted string.
   */
  value(value: unknown): unknown;
}

export const NO_REDACTION: Redactor = { active: false, text: (text) => text, value: (value) => value };

/**
 * The redactor of one send: `values` are the secret values substituted into its request. Every
 * value is redacted, however short (see docs/secrets.md: new values shorter than 8 characters are
 * refused at create time; older ones must still never be shown). Empty values match nothing.
 */
export function secretRedactor(values: readonly string[]): Redactor {
  const candidates = new Set<string>([REDACTED]);
  for (const value of values) for (const spelling of spellingsOf(value)) candidates.add(spelling);
  candidates.delete('');
  if (candidates.size === 1) return NO_REDACTION;
  const spellings = [...candidates];
  const text = (input: string, opts?: { cut?: boolean }): string => {
    if (input === '') return input;
    const redacted = redactRuns(input, spellings);
    return opts?.cut ? redactCutTail(redacted, spellings) : redacted;
  };
  const leaf = (input: unknown): unknown => {
    if (typeof input === 'string') return text(input);
    if (typeof input === 'number' || typeof input === 'bigint') {
      const spelled = String(input);
      const redacted = text(spelled);
      return redacted === spelled ? input : redacted;
    }
    return input;
  };
  const value = (input: unknown): unknown => {
    // JSON escaping is per character, so a value holds a secret only if its JSON text holds one of
    // the secret's JSON spellings: a clean value (the common case) is returned without a walk.
    let serialized: string | undefined;
    try {
      serialized = JSON.stringify(input);
    } catch {
      serialized = undefined; // too deep for the native serializer, or not JSON: walk it
    }
    if (serialized !== undefined && !spellings.some((spelling) => serialized.includes(spelling))) return input;
    return redactDeep(input, text, leaf);
  };
  return { active: true, text, value };
}

/** Convenience for one text: `secretRedactor(values).text(text)`. */
export function redactSecrets(text: string, values: readonly string[]): string {
  return secretRedactor(values).text(text);
}

/**
 * The spellings of one secret that an echoing target commonly produces. The bytes a target gets
 * are the value as Latin-1 (Node sends header values so), and the platform reads a response as
 * UTF-8; for a value outside ASCII (only legacy values can be) both readings are covered.
 */
export function spellingsOf(value: string): string[] {
  if (value === '') return [];
  const readings = new Set([value, Buffer.from(value, 'latin1').toString('utf8')]);
  const spellings = new Set<string>();
  for (const reading of readings) {
    spellings.add(reading);
    for (const s of jsonSpellings(reading)) spellings.add(s);
    for (const s of percentSpellings(reading)) spellings.add(s);
    for (const s of htmlSpellings(reading)) spellings.add(s);
  }
  // base64 of the value's bytes, and of its JSON spelling (a claim inside a JWT payload).
  const encoded = [Buffer.from(value, 'utf8'), Buffer.from(value, 'latin1'), Buffer.from(JSON.stringify(value).slice(1, -1), 'utf8')];
  for (const bytes of new Set(encoded.map((b) => b.toString('hex')))) {
    for (const s of base64Spellings(Buffer.from(bytes, 'hex'))) spellings.add(s);
  }
  spellings.delete('');
  return [...spellings];
}

/** Inside a JSON string: JSON.stringify's form, `\/` (PHP), ASCII-only `\uXXXX` (Python, PHP), `<>&` escaped (Go), and every character escaped. */
function jsonSpellings(value: string): string[] {
  const plain = JSON.stringify(value).slice(1, -1);
  const out = new Set([plain, plain.replaceAll('/', '\\/')]);
  const u = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  const ascii = plain.replace(/[^\x20-\x7e]/g, u);
  const go = ascii.replace(/[<>&]/g, u);
  // Every UTF-16 unit as \uXXXX: what JSON allows for any character, surrogate pairs included.
  const every = value.split('').map(u).join('');
  for (const form of [ascii, go, ascii.replaceAll('/', '\\/'), go.replaceAll('/', '\\/'), every]) {
    out.add(form);
    out.add(form.replace(/\\u([0-9a-f]{4})/g, (_m, hex: string) => `\\u${hex.toUpperCase()}`));
  }
  return [...out];
}

/** encodeURIComponent and form encoding (`+` for a space), each with upper- and lower-case hex. */
function percentSpellings(value: string): string[] {
  let component: string;
  try {
    component = encodeURIComponent(value);
  } catch {
    return []; // a lone surrogate: no encoder produces anything from it
  }
  const form = new URLSearchParams([['', value]]).toString().slice(1);
  const lower = (s: string) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
  return [component, lower(component), form, lower(form)];
}

/** The escapers in common use: `&quot;`/`&#34;` and `&#39;`/`&#x27;`/`&apos;` for quotes, and OWASP's `&#x2F;` for `/`. */
function htmlSpellings(value: string): string[] {
  const variants: Array<Record<string, string>> = [
    { '"': '&quot;', "'": '&#39;' },
    { '"': '&quot;', "'": '&#x27;' },
    { '"': '&#34;', "'": '&#39;' },
    { '"': '&quot;', "'": '&apos;' },
    { '"': '&quot;', "'": '&#x27;', '/': '&#x2F;' },
  ];
  return variants.map((v) => value.replace(/[&<>"'/]/g, (c) => v[c] ?? { '&': '&amp;', '<': '&lt;', '>': '&gt;' }[c] ?? c));
}

/**
 * Standard and URL-safe base64, whole (padded and not) and as the cores that appear when the value
 * is encoded inside a longer text (`Basic base64(user:secret)`, a JWT): one per offset mod 3.
 */
function base64Spellings(bytes: Buffer): string[] {
  const out = new Set<string>();
  for (const alphabet of ['base64', 'base64url'] as const) {
    const bare = bytes.toString(alphabet).replace(/=+$/, '');
    out.add(bare);
    out.add(bare + '='.repeat((4 - (bare.length % 4)) % 4));
    for (const core of base64Cores(bytes, alphabet)) if (core.length >= MIN_BASE64_CORE_LENGTH) out.add(core);
  }
  return [...out];
}

/**
 * The characters of base64(k filler bytes + value + anything) that depend on the value's bytes
 * alone, for k = 0, 1, 2. Character i covers bits [6i, 6i+6); the value covers [8k, 8(k+n)).
 */
function base64Cores(bytes: Buffer, alphabet: 'base64' | 'base64url'): string[] {
  const cores: string[] = [];
  for (let k = 0; k < 3; k++) {
    const encoded = Buffer.concat([Buffer.alloc(k), bytes]).toString(alphabet);
    const first = Math.ceil((4 * k) / 3);
    const last = Math.floor((4 * (k + bytes.length)) / 3) - 1;
    if (last >= first) cores.push(encoded.slice(first, last + 1));
  }
  return cores;
}

/** Copies a JSON-like value with `key` applied to every key and `leaf` to every other value, without recursion. */
function redactDeep(root: unknown, key: (k: string) => string, leaf: (v: unknown) => unknown): unknown {
  if (root === null || typeof root !== 'object') return leaf(root);
  const stack: Array<[object, Record<string, unknown> | unknown[]]> = [];
  const place = (input: unknown): unknown => {
    if (input === null || typeof input !== 'object') return leaf(input);
    const copy: Record<string, unknown> | unknown[] = Array.isArray(input) ? [] : {};
    stack.push([input, copy]);
    return copy;
  };
  const top = place(root);
  while (stack.length > 0) {
    const [source, copy] = stack.pop()!;
    if (Array.isArray(source)) {
      for (const item of source) (copy as unknown[]).push(place(item));
      continue;
    }
    for (const [k, v] of Object.entries(source)) {
      // An own data property even for `__proto__`; a key that redacts to one already there keeps the first value.
      const name = key(k);
      if (Object.prototype.hasOwnProperty.call(copy, name)) continue;
      Object.defineProperty(copy, name, { value: place(v), enumerable: true, writable: true, configurable: true });
    }
  }
  return top;
}

/**
 * Replaces every occurrence of every spelling, overlapping ones included, merging overlaps into one
 * marker: two overlapping secrets leave no tail of either. The marker is a spelling too, so a
 * second pass (or a legacy secret that is part of the marker, like `red`) leaves `[redacted]` as it
 * is. Hand-written with indexOf rather than one alternation regex: a 16 KiB secret's spellings are
 * too large for V8's regex compiler, and indexOf is native and linear in practice.
 */
function redactRuns(input: string, spellings: readonly string[]): string {
  const runs: Array<[number, number]> = [];
  for (const spelling of spellings) {
    // From the next character, not the end of the find: "abab" in "ababab" covers all six.
    for (let at = input.indexOf(spelling); at >= 0; at = input.indexOf(spelling, at + 1)) runs.push([at, at + spelling.length]);
  }
  if (runs.length === 0) return input;
  runs.sort((x, y) => x[0] - y[0]);
  let out = '';
  let [start, end] = runs[0];
  let copied = 0;
  for (const [s, e] of runs) {
    if (s < end) {
      end = Math.max(end, e);
      continue;
    }
    out += input.slice(copied, start) + REDACTED;
    copied = end;
    [start, end] = [s, e];
  }
  return out + input.slice(copied, start) + REDACTED + input.slice(end);
}

/**
 * A text cut short can end in the first characters of a spelling: those go too (the longest such
 * beginning, whichever spelling it belongs to). Only what follows the last marker is looked at.
 */
function redactCutTail(input: string, spellings: readonly string[]): string {
  const marker = input.lastIndexOf(REDACTED);
  const floor = marker >= 0 ? marker + REDACTED.length : 0;
  let from = input.length;
  for (const spelling of spellings) {
    if (spelling === REDACTED) continue;
    for (let at = Math.max(floor, input.length - spelling.length + 1); at < from; at++) {
      if (input.charCodeAt(at) === spelling.charCodeAt(0) && spelling.startsWith(input.slice(at))) {
        from = at;
        break;
      }
    }
  }
  return from === input.length ? input : input.slice(0, from) + REDACTED;
}
