import { createHmac } from 'node:crypto';
import { verifySignature } from './signature-schemes';
import type { RefusalReason, WebhookHeaders, WebhookVerification } from './verification';

const at = (unixSeconds: number) => new Date(unixSeconds * 1000);
const bytes = (text: string) => Buffer.from(text, 'utf8');
const reason = (verification: WebhookVerification, body: Uint8Array, headers: WebhookHeaders, now: Date): RefusalReason | 'ok' => {
  const result = verifySignature(verification, { body, headers, now });
  return result.ok ? 'ok' : result.reason;
};

describe('github (X-Hub-Signature-256)', () => {
  // GitHub's documented example: docs.github.com, "Validating webhook deliveries".
  const github: WebhookVerification = { scheme: 'github', secret: "It's a Secret to Everybody" };
  const body = bytes('Hello, World!');
  const published = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
  const now = at(1_700_000_000);

  it('accepts the published vector, with no timestamp to judge', () => {
    expect(verifySignature(github, { body, headers: { 'x-hub-signature-256': published }, now })).toEqual({ ok: true, by: ['github'] });
    expect(reason(github, body, { 'x-hub-signature-256': published }, at(0))).toBe('ok');
  });

  it.each`
    case                                  | headers                                                                 | body                         | secret                           | expected
    ${'upper-case hex digits'}            | ${{ 'x-hub-signature-256': published.toUpperCase().replace('SHA256', 'sha256') }} | ${body}         | ${github.secret}                 | ${'ok'}
    ${'a tampered body'}                  | ${{ 'x-hub-signature-256': published }}                                 | ${bytes('Hello, World?')}    | ${github.secret}                 | ${'signature_mismatch'}
    ${'the wrong secret'}                 | ${{ 'x-hub-signature-256': published }}                                 | ${body}                      | ${"It's a Secret to Everybody!"} | ${'signature_mismatch'}
    ${'no header'}                        | ${{}}                                                                   | ${body}                      | ${github.secret}                 | ${'missing_signature'}
    ${'only the SHA-1 header'}            | ${{ 'x-hub-signature': 'sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59' }} | ${body}                    | ${github.secret}                 | ${'missing_signature'}
    ${'a blank header'}                   | ${{ 'x-hub-signature-256': '  ' }}                                      | ${body}                      | ${github.secret}                 | ${'missing_signature'}
    ${'no sha256= prefix'}                | ${{ 'x-hub-signature-256': published.slice(7) }}                        | ${body}                      | ${github.secret}                 | ${'malformed_signature'}
    ${'a digest one digit short'}         | ${{ 'x-hub-signature-256': published.slice(0, -1) }}                    | ${body}                      | ${github.secret}                 | ${'malformed_signature'}
    ${'a non-hex digit'}                  | ${{ 'x-hub-signature-256': `${published.slice(0, -1)}g` }}              | ${body}                      | ${github.secret}                 | ${'malformed_signature'}
    ${'two headers, as a list'}           | ${{ 'x-hub-signature-256': [published, published] }}                    | ${body}                      | ${github.secret}                 | ${'malformed_signature'}
    ${'two headers, joined by Node'}      | ${{ 'x-hub-signature-256': `${published}, ${published}` }}              | ${body}                      | ${github.secret}                 | ${'malformed_signature'}
    ${'one header in a list'}             | ${{ 'x-hub-signature-256': [published] }}                               | ${body}                      | ${github.secret}                 | ${'ok'}
    ${'a huge value'}                     | ${{ 'x-hub-signature-256': `sha256=${'a'.repeat(100_000)}` }}           | ${body}                      | ${github.secret}                 | ${'malformed_signature'}
  `('$case: $expected', ({ headers, body: given, secret, expected }) => {
    expect(reason({ scheme: 'github', secret }, given, headers, now)).toBe(expected);
  });

  it('signs the bytes, not a decoding of them', () => {
    const raw = Buffer.from([0x48, 0xff, 0x00, 0xfe]);
    const signature = `sha256=${createHmac('sha256', github.secret).update(raw).digest('hex')}`;
    expect(reason(github, raw, { 'x-hub-signature-256': signature }, now)).toBe('ok');
    expect(reason(github, Buffer.from([0x48, 0xfe, 0x00, 0xfe]), { 'x-hub-signature-256': signature }, now)).toBe('signature_mismatch');
    expect(reason(github, new Uint8Array(raw), { 'x-hub-signature-256': signature }, now)).toBe('ok');
  });
});

describe('stripe (Stripe-Signature)', () => {
  // Stripe publishes no fixed vector; this one was derived once with node:crypto
  // (HMAC-SHA256, key "whsec_test_secret", over "1700000000.{body}") and is hard-coded, and the
  // test below also recomputes it independently.
  const stripe: WebhookVerification = { scheme: 'stripe', secret: 'whsec_test_secret', tolerance_seconds: 300 };
  const body = bytes('{"id":"evt_1","object":"event"}');
  const t = 1_700_000_000;
  const v1 = '0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd';
  const other = '4eafae7374cc4fa6afd0085a0fa3e831d86e4316d466d14a00f00496ea8bc114'; // the same key over another body
  const header = (value: string) => ({ 'stripe-signature': value });

  it('matches an HMAC computed independently', () => {
    expect(createHmac('sha256', 'whsec_test_secret').update(`${t}.`).update(body).digest('hex')).toBe(v1);
    expect(verifySignature(stripe, { body, headers: header(`t=${t},v1=${v1}`), now: at(t + 5) })).toEqual({ ok: true, by: ['stripe'], signedAt: t });
  });

  it.each`
    case                                          | value                                           | now               | expected
    ${'v1 then v0 (test mode adds v0)'}           | ${`t=${t},v1=${v1},v0=${other}`}                | ${at(t)}          | ${'ok'}
    ${'several v1, the match last (secret roll)'} | ${`t=${t},v1=${other},v1=${v1}`}                | ${at(t)}          | ${'ok'}
    ${'several v1, the match first'}              | ${`t=${t},v1=${v1},v1=${other}`}                | ${at(t)}          | ${'ok'}
    ${'a garbage v1 beside the match'}            | ${`t=${t},v1=zz,v1=${v1}`}                      | ${at(t)}          | ${'ok'}
    ${'spaces around entries'}                    | ${` t=${t} , v1=${v1} `}                        | ${at(t)}          | ${'ok'}
    ${'entries in another order'}                 | ${`v1=${v1},t=${t}`}                            | ${at(t)}          | ${'ok'}
    ${'at the edge of the window'}                | ${`t=${t},v1=${v1}`}                            | ${at(t + 300)}    | ${'ok'}
    ${'just past the window'}                     | ${`t=${t},v1=${v1}`}                            | ${at(t + 301)}    | ${'timestamp_out_of_tolerance'}
    ${'a stale t'}                                | ${`t=${t},v1=${v1}`}                            | ${at(t + 86_400)} | ${'timestamp_out_of_tolerance'}
    ${'a t from the future'}                      | ${`t=${t},v1=${v1}`}                            | ${at(t - 301)}    | ${'timestamp_out_of_tolerance'}
    ${'only a non-matching v1'}                   | ${`t=${t},v1=${other}`}                         | ${at(t)}          | ${'signature_mismatch'}
    ${'a t that was not signed'}                  | ${`t=${t + 1},v1=${v1}`}                        | ${at(t)}          | ${'signature_mismatch'}
    ${'only v0'}                                  | ${`t=${t},v0=${v1}`}                            | ${at(t)}          | ${'malformed_signature'}
    ${'no t'}                                     | ${`v1=${v1}`}                                   | ${at(t)}          | ${'missing_timestamp'}
    ${'an empty t'}                               | ${`t=,v1=${v1}`}                                | ${at(t)}          | ${'malformed_timestamp'}
    ${'a non-numeric t'}                          | ${`t=soon,v1=${v1}`}                            | ${at(t)}          | ${'malformed_timestamp'}
    ${'t with trailing text (parseInt reads it)'} | ${`t=${t}abc,v1=${v1}`}                         | ${at(t)}          | ${'malformed_timestamp'}
    ${'t in exponent form'}                       | ${`t=1.7e9,v1=${v1}`}                           | ${at(t)}          | ${'malformed_timestamp'}
    ${'a negative t'}                             | ${`t=-${t},v1=${v1}`}                           | ${at(t)}          | ${'malformed_timestamp'}
    ${'two headers joined (two t)'}               | ${`t=${t},v1=${v1}, t=${t},v1=${v1}`}           | ${at(t)}          | ${'malformed_signature'}
    ${'garbage'}                                  | ${'\u0000\uffff=,,,==='}                        | ${at(t)}          | ${'missing_timestamp'}
    ${'a huge value'}                             | ${`t=${t},${'v1=00,'.repeat(5000)}v1=${v1}`}    | ${at(t)}          | ${'malformed_signature'}
  `('$case: $expected', ({ value, now, expected }) => {
    expect(reason(stripe, body, header(value), now)).toBe(expected);
  });

  it('uses the job tolerance, and the default when a stored one is unusable', () => {
    const value = header(`t=${t},v1=${v1}`);
    expect(reason({ ...stripe, tolerance_seconds: 3600 }, body, value, at(t + 3600))).toBe('ok');
    expect(reason({ ...stripe, tolerance_seconds: 10 }, body, value, at(t + 11))).toBe('timestamp_out_of_tolerance');
    expect(reason({ ...stripe, tolerance_seconds: Number.NaN }, body, value, at(t + 301))).toBe('timestamp_out_of_tolerance');
    expect(reason({ ...stripe, tolerance_seconds: Number.POSITIVE_INFINITY }, body, value, at(t + 301))).toBe('timestamp_out_of_tolerance');
  });

  it('refuses a tampered body and the wrong secret', () => {
    expect(reason(stripe, bytes('{"id":"evt_1","object":"event" }'), header(`t=${t},v1=${v1}`), at(t))).toBe('signature_mismatch');
    expect(reason({ ...stripe, secret: 'whsec_test_secreT' }, body, header(`t=${t},v1=${v1}`), at(t))).toBe('signature_mismatch');
    expect(reason(stripe, body, {}, at(t))).toBe('missing_signature');
  });
});

describe('slack (X-Slack-Signature)', () => {
  // Slack's documented example: api.slack.com/authentication/verifying-requests-from-slack.
  const slack: WebhookVerification = { scheme: 'slack', secret: '8f742231b10e8888abcd99yyyzzz85a5', tolerance_seconds: 300 };
  const body = bytes(
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  );
  const ts = 1_531_420_618;
  const published = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
  const headers = (signature: string | undefined, timestamp: string | undefined): WebhookHeaders => ({
    'x-slack-signature': signature,
    'x-slack-request-timestamp': timestamp,
  });

  it('accepts the published vector', () => {
    expect(verifySignature(slack, { body, headers: headers(published, String(ts)), now: at(ts + 10) })).toEqual({ ok: true, by: ['slack'], signedAt: ts });
  });

  it.each`
    case                                 | signature                                 | timestamp             | now             | expected
    ${'the edge of the window, late'}    | ${published}                              | ${String(ts)}         | ${at(ts + 300)} | ${'ok'}
    ${'the edge of the window, early'}   | ${published}                              | ${String(ts)}         | ${at(ts - 300)} | ${'ok'}
    ${'a replay six minutes later'}      | ${published}                              | ${String(ts)}         | ${at(ts + 360)} | ${'timestamp_out_of_tolerance'}
    ${'a timestamp ahead of now'}        | ${published}                              | ${String(ts)}         | ${at(ts - 301)} | ${'timestamp_out_of_tolerance'}
    ${'another timestamp'}               | ${published}                              | ${String(ts + 1)}     | ${at(ts)}       | ${'signature_mismatch'}
    ${'the timestamp with leading zero'} | ${published}                              | ${`0${ts}`}           | ${at(ts)}       | ${'signature_mismatch'}
    ${'v1= instead of v0='}              | ${published.replace('v0=', 'v1=')}        | ${String(ts)}         | ${at(ts)}       | ${'malformed_signature'}
    ${'no version'}                      | ${published.slice(3)}                     | ${String(ts)}         | ${at(ts)}       | ${'malformed_signature'}
    ${'no signature'}                    | ${undefined}                              | ${String(ts)}         | ${at(ts)}       | ${'missing_signature'}
    ${'no timestamp'}                    | ${published}                              | ${undefined}          | ${at(ts)}       | ${'missing_timestamp'}
    ${'a non-numeric timestamp'}         | ${published}                              | ${'yesterday'}        | ${at(ts)}       | ${'malformed_timestamp'}
    ${'a fractional timestamp'}          | ${published}                              | ${`${ts}.5`}          | ${at(ts)}       | ${'malformed_timestamp'}
    ${'two timestamps joined'}           | ${published}                              | ${`${ts}, ${ts}`}     | ${at(ts)}       | ${'malformed_timestamp'}
    ${'a huge timestamp'}                | ${published}                              | ${'9'.repeat(400)}    | ${at(ts)}       | ${'malformed_timestamp'}
    ${'a timestamp past the limit'}      | ${published}                              | ${'9'.repeat(9000)}   | ${at(ts)}       | ${'malformed_timestamp'}
  `('$case: $expected', ({ signature, timestamp, now, expected }) => {
    expect(reason(slack, body, headers(signature, timestamp), now)).toBe(expected);
  });

  it('refuses a tampered body and the wrong secret', () => {
    expect(reason(slack, bytes('token=xyzz'), headers(published, String(ts)), at(ts))).toBe('signature_mismatch');
    expect(reason({ ...slack, secret: '8f742231b10e8888abcd99yyyzzz85a6' }, body, headers(published, String(ts)), at(ts))).toBe('signature_mismatch');
  });
});

describe('hmac_sha256 (a configured header)', () => {
  const secret = "It's a Secret to Everybody";
  const body = bytes('Hello, World!');
  const hex = '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
  const base64 = Buffer.from(hex, 'hex').toString('base64'); // dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc=
  const base64url = Buffer.from(hex, 'hex').toString('base64url');
  const hexJob: WebhookVerification = { scheme: 'hmac_sha256', secret, header: 'x-signature', encoding: 'hex' };
  const base64Job: WebhookVerification = { ...hexJob, encoding: 'base64' };

  it.each`
    case                                 | job          | value                          | expected
    ${'hex'}                             | ${hexJob}    | ${hex}                         | ${'ok'}
    ${'hex with sha256='}                | ${hexJob}    | ${`sha256=${hex}`}             | ${'ok'}
    ${'hex with SHA256='}                | ${hexJob}    | ${`SHA256=${hex}`}             | ${'ok'}
    ${'base64'}                          | ${base64Job} | ${base64}                      | ${'ok'}
    ${'base64 without padding'}          | ${base64Job} | ${base64.slice(0, -1)}         | ${'ok'}
    ${'base64url'}                       | ${base64Job} | ${base64url}                   | ${'ok'}
    ${'base64 with sha256='}             | ${base64Job} | ${`sha256=${base64}`}          | ${'ok'}
    ${'base64 sent to a hex job'}        | ${hexJob}    | ${base64}                      | ${'malformed_signature'}
    ${'hex sent to a base64 job'}        | ${base64Job} | ${hex}                         | ${'malformed_signature'}
    ${'base64 of another length'}        | ${base64Job} | ${Buffer.alloc(20).toString('base64')} | ${'malformed_signature'}
    ${'a non-canonical last digit'}      | ${base64Job} | ${`${base64.slice(0, 42)}d=`}  | ${'malformed_signature'}
    ${'the digest of another body'}      | ${hexJob}    | ${'0'.repeat(64)}              | ${'signature_mismatch'}
    ${'the digest of another body (b64)'} | ${base64Job} | ${Buffer.alloc(32).toString('base64')} | ${'signature_mismatch'}
  `('$case: $expected', ({ job, value, expected }) => {
    expect(reason(job, body, { 'x-signature': value }, at(0))).toBe(expected);
  });

  it('reads only the configured header', () => {
    expect(reason(hexJob, body, { 'x-hub-signature-256': `sha256=${hex}` }, at(0))).toBe('missing_signature');
    expect(reason({ ...hexJob, header: '__proto__' }, body, {}, at(0))).toBe('missing_signature');
    expect(reason({ ...hexJob, header: 'constructor' }, body, {}, at(0))).toBe('missing_signature');
  });
});

describe('what the caller passes', () => {
  const github: WebhookVerification = { scheme: 'github', secret: 'x' };
  it.each`
    case                       | verification                                     | delivery                                                     | expected
    ${'a body that is text'}   | ${github}                                        | ${{ body: 'Hello', headers: {}, now: at(0) }}                | ${'invalid_input'}
    ${'no body'}               | ${github}                                        | ${{ headers: {}, now: at(0) }}                               | ${'invalid_input'}
    ${'an invalid now'}        | ${github}                                        | ${{ body: bytes(''), headers: {}, now: new Date(Number.NaN) }} | ${'invalid_input'}
    ${'now as a number'}       | ${github}                                        | ${{ body: bytes(''), headers: {}, now: 1_700_000_000 }}      | ${'invalid_input'}
    ${'no delivery'}           | ${github}                                        | ${undefined}                                                 | ${'invalid_input'}
    ${'headers that are null'} | ${github}                                        | ${{ body: bytes(''), headers: null, now: at(0) }}            | ${'missing_signature'}
    ${'an empty secret'}       | ${{ scheme: 'github', secret: '' }}              | ${{ body: bytes(''), headers: {}, now: at(0) }}              | ${'invalid_configuration'}
    ${'no configuration'}      | ${null}                                          | ${{ body: bytes(''), headers: {}, now: at(0) }}              | ${'invalid_configuration'}
    ${'an unknown scheme'}     | ${{ scheme: 'paypal', secret: 'x' }}             | ${{ body: bytes(''), headers: {}, now: at(0) }}              | ${'invalid_configuration'}
    ${'hmac without a header'} | ${{ scheme: 'hmac_sha256', secret: 'x' }}        | ${{ body: bytes(''), headers: {}, now: at(0) }}              | ${'invalid_configuration'}
    ${'a bad whsec_ secret'}   | ${{ scheme: 'standard_webhooks', secret: 'x' }}  | ${{ body: bytes(''), headers: {}, now: at(0) }}              | ${'invalid_configuration'}
  `('$case: $expected', ({ verification, delivery, expected }) => {
    const result = verifySignature(verification, delivery);
    expect(result.ok ? 'ok' : result.reason).toBe(expected);
  });
});
