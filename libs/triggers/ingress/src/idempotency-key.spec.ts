import { idempotencyKeyOf } from './idempotency-key';

const found = (key: string, source: string) => ({ ok: true, idempotencyKey: { key, source } });
const none = { ok: true, idempotencyKey: null };
const refused = (header: string, problem: string) => ({
  ok: false,
  status: 400,
  code: 'validation_failed',
  message: `Invalid request: headers.${header} ${problem}`,
  details: { fields: [{ field: `headers.${header}`, message: problem }] },
});

describe('idempotencyKeyOf', () => {
  it.each<[string, Record<string, string | string[] | undefined>, unknown]>([
    ['none', { 'content-type': 'application/json' }, none],
    ['Idempotency-Key', { 'Idempotency-Key': 'order-42' }, found('order-42', 'idempotency-key')],
    ['Standard Webhooks webhook-id', { 'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W' }, found('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', 'webhook-id')],
    ['GitHub’s delivery id', { 'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' }, found('72d3162e-cc78-11e3-81ab-4c9367dc0958', 'x-github-delivery')],
    ['Idempotency-Key first', { 'x-github-delivery': 'g', 'webhook-id': 'w', 'idempotency-key': 'i' }, found('i', 'idempotency-key')],
    ['then webhook-id', { 'x-github-delivery': 'g', 'webhook-id': 'w' }, found('w', 'webhook-id')],
    ['a blank header counts as absent', { 'idempotency-key': '   ', 'webhook-id': 'w' }, found('w', 'webhook-id')],
    ['surrounding whitespace is trimmed', { 'idempotency-key': '  k 1  ' }, found('k 1', 'idempotency-key')],
    ['several values are joined, as Node joins them', { 'idempotency-key': ['a', 'b'] }, found('a, b', 'idempotency-key')],
    ['names that differ in case are one header', { 'Idempotency-Key': 'a', 'idempotency-key': 'b' }, found('a, b', 'idempotency-key')],
    ['undefined values are absent', { 'idempotency-key': undefined, 'webhook-id': 'w' }, found('w', 'webhook-id')],
    ['256 characters', { 'idempotency-key': 'k'.repeat(256) }, found('k'.repeat(256), 'idempotency-key')],
    ['all printable ASCII', { 'idempotency-key': ' !~azAZ09"\\' }, found('!~azAZ09"\\', 'idempotency-key')],
    ['257 characters', { 'idempotency-key': 'k'.repeat(257) }, refused('idempotency-key', 'must be at most 256 characters')],
    ['a megabyte', { 'webhook-id': 'k'.repeat(1024 * 1024) }, refused('webhook-id', 'must be at most 256 characters')],
    ['a NUL', { 'idempotency-key': 'a\u0000b' }, refused('idempotency-key', 'must be printable ASCII')],
    ['a control character', { 'idempotency-key': 'a\u007fb' }, refused('idempotency-key', 'must be printable ASCII')],
    ['Latin-1', { 'x-github-delivery': 'caf\u00e9' }, refused('x-github-delivery', 'must be printable ASCII')],
    ['a lone surrogate', { 'idempotency-key': '\ud800' }, refused('idempotency-key', 'must be printable ASCII')],
    ['an invalid key is refused, not replaced by the next header', { 'idempotency-key': 'k'.repeat(300), 'webhook-id': 'w' }, refused('idempotency-key', 'must be at most 256 characters')],
  ])('%s', (_name, headers, expected) => {
    expect(idempotencyKeyOf(headers)).toEqual(expected);
  });
});
