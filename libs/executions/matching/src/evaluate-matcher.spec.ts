import { evaluateMatcher } from './evaluate-matcher';
import { createLinearRegexEngine, linearRegexEngine } from './linear-regex-engine';
import type { Assertion, ResponseForMatching } from './response-matcher';

const body = JSON.stringify({
  status: 'ok',
  count: 3,
  ratio: 0.5,
  flag: true,
  none: null,
  tags: ['a', 'b'],
  items: [{ id: 1 }, { id: 2 }],
  order: { id: 'ord_1', total: 12.5 },
  message: 'all systems READY',
});
const response: ResponseForMatching = {
  status: 200,
  headers: { 'content-type': 'application/json; charset=utf-8', 'x-remaining': '42', 'x-empty': '' },
  body,
};
const text: ResponseForMatching = { status: 503, headers: {}, body: 'Service Unavailable' };

const check = (assertion: Assertion, r: ResponseForMatching = response) => evaluateMatcher({ assertions: [assertion] }, r, linearRegexEngine);
const json = (path: string, op: Assertion['op'], value?: unknown): Assertion => ({ source: 'json', path, op, ...(value === undefined ? {} : { value }) });
const header = (name: string, op: Assertion['op'], value?: unknown): Assertion => ({ source: 'header', name, op, ...(value === undefined ? {} : { value }) });
const status = (op: Assertion['op'], value: unknown): Assertion => ({ source: 'status', op, value });
const raw = (op: Assertion['op'], value: unknown): Assertion => ({ source: 'body', op, value });

describe('evaluateMatcher', () => {
  it('passes with no rules', () => {
    expect(evaluateMatcher({}, response, linearRegexEngine)).toEqual({ ok: true });
  });

  it.each`
    assertion
    ${json('$.status', 'eq', 'ok')}
    ${json('$.order', 'eq', { total: 12.5, id: 'ord_1' })}
    ${json('$.tags', 'eq', ['a', 'b'])}
    ${json('$.none', 'eq', null)}
    ${json('$.items[*].id', 'eq', [1, 2])}
    ${json('$.status', 'neq', 'fail')}
    ${json('$.count', 'neq', '3')}
    ${json('$.message', 'contains', 'READY')}
    ${json('$.tags', 'contains', 'b')}
    ${json('$.items', 'contains', { id: 2 })}
    ${json('$.message', 'not_contains', 'ERROR')}
    ${json('$.tags', 'not_contains', 'c')}
    ${json('$.status', 'matches', '^o.$')}
    ${json('$.count', 'matches', '^\\d+$')}
    ${json('$.flag', 'matches', 'true')}
    ${json('$.order.id', 'exists')}
    ${json('$.none', 'exists')}
    ${json('$.error', 'not_exists')}
    ${json('$.count', 'gt', 2)}
    ${json('$.count', 'gte', 3)}
    ${json('$.ratio', 'lt', 1)}
    ${json('$.ratio', 'lte', 0.5)}
    ${json('$.status', 'in', ['ok', 'healthy'])}
    ${json('$.tags', 'in', [['a', 'b']])}
    ${header('content-type', 'eq', 'application/json; charset=utf-8')}
    ${header('Content-Type', 'contains', 'json')}
    ${header('content-type', 'not_contains', 'html')}
    ${header('content-type', 'neq', 'text/html')}
    ${header('content-type', 'matches', '^application/json')}
    ${header('x-empty', 'exists')}
    ${header('x-missing', 'not_exists')}
    ${header('constructor', 'not_exists')}
    ${header('x-remaining', 'gt', 10)}
    ${header('x-remaining', 'lte', 42)}
    ${header('x-remaining', 'in', ['41', '42'])}
    ${status('eq', 200)}
    ${status('neq', 204)}
    ${status('in', [200, 201])}
    ${status('gte', 200)}
    ${status('lt', 300)}
    ${status('matches', '^2\\d\\d$')}
    ${raw('contains', '"status":"ok"')}
    ${raw('not_contains', 'error')}
    ${raw('matches', '"count":\\s*3')}
    ${raw('neq', '')}
  `('passes: $assertion.source $assertion.path$assertion.name $assertion.op $assertion.value', ({ assertion }) => {
    expect(check(assertion)).toEqual({ ok: true });
  });

  it.each`
    assertion                                           | r           | why
    ${json('$.status', 'eq', 'fail')}                   | ${response} | ${'assertions[0]: $.status eq "fail" (got "ok")'}
    ${json('$.count', 'eq', '3')}                       | ${response} | ${'assertions[0]: $.count eq "3" (got 3)'}
    ${json('$.order', 'eq', { id: 'ord_1' })}           | ${response} | ${'assertions[0]: $.order eq {"id":"ord_1"} (got {"id":"ord_1","total":12.5})'}
    ${json('$.tags', 'eq', ['b', 'a'])}                 | ${response} | ${'assertions[0]: $.tags eq ["b","a"] (got ["a","b"])'}
    ${json('$.status', 'neq', 'ok')}                    | ${response} | ${'assertions[0]: $.status neq "ok" (got "ok")'}
    ${json('$.message', 'contains', 'DOWN')}            | ${response} | ${'assertions[0]: $.message contains "DOWN" (got "all systems READY")'}
    ${json('$.tags', 'contains', 'c')}                  | ${response} | ${'assertions[0]: $.tags contains "c" (got ["a","b"])'}
    ${json('$.count', 'contains', '3')}                 | ${response} | ${'assertions[0]: $.count contains "3" (got 3)'}
    ${json('$.message', 'not_contains', 'READY')}       | ${response} | ${'assertions[0]: $.message not_contains "READY" (got "all systems READY")'}
    ${json('$.order', 'not_contains', 'x')}             | ${response} | ${'assertions[0]: $.order not_contains "x" (got {"id":"ord_1","total":12.5})'}
    ${json('$.status', 'matches', '^OK$')}              | ${response} | ${'assertions[0]: $.status matches "^OK$" (got "ok")'}
    ${json('$.order', 'matches', 'ord')}                | ${response} | ${'assertions[0]: $.order matches "ord" (got {"id":"ord_1","total":12.5})'}
    ${json('$.error', 'exists')}                        | ${response} | ${'assertions[0]: $.error exists (missing)'}
    ${json('$.status', 'not_exists')}                   | ${response} | ${'assertions[0]: $.status not_exists (got "ok")'}
    ${json('$.count', 'gt', 3)}                         | ${response} | ${'assertions[0]: $.count gt 3 (got 3)'}
    ${json('$.count', 'gte', 4)}                        | ${response} | ${'assertions[0]: $.count gte 4 (got 3)'}
    ${json('$.ratio', 'lt', 0.5)}                       | ${response} | ${'assertions[0]: $.ratio lt 0.5 (got 0.5)'}
    ${json('$.ratio', 'lte', 0.1)}                      | ${response} | ${'assertions[0]: $.ratio lte 0.1 (got 0.5)'}
    ${json('$.status', 'gt', 1)}                        | ${response} | ${'assertions[0]: $.status gt 1 (got "ok")'}
    ${json('$.status', 'in', ['healthy'])}              | ${response} | ${'assertions[0]: $.status in ["healthy"] (got "ok")'}
    ${json('$.nope', 'eq', 'x')}                        | ${response} | ${'assertions[0]: $.nope eq "x" (missing)'}
    ${json('$.nope', 'neq', 'x')}                       | ${response} | ${'assertions[0]: $.nope neq "x" (missing)'}
    ${json('$.nope', 'not_contains', 'x')}              | ${response} | ${'assertions[0]: $.nope not_contains "x" (missing)'}
    ${json('$.status', 'eq', 'ok')}                     | ${text}     | ${'assertions[0]: $.status eq "ok" (body is not JSON)'}
    ${json('$.status', 'not_exists')}                   | ${text}     | ${'assertions[0]: $.status not_exists (body is not JSON)'}
    ${header('content-type', 'eq', 'text/html')}        | ${response} | ${'assertions[0]: header content-type eq "text/html" (got "application/json; charset=utf-8")'}
    ${header('content-type', 'contains', 'html')}       | ${response} | ${'assertions[0]: header content-type contains "html" (got "application/json; charset=utf-8")'}
    ${header('content-type', 'not_contains', 'json')}   | ${response} | ${'assertions[0]: header content-type not_contains "json" (got "application/json; charset=utf-8")'}
    ${header('content-type', 'matches', '^text/')}      | ${response} | ${'assertions[0]: header content-type matches "^text/" (got "application/json; charset=utf-8")'}
    ${header('x-request-id', 'exists')}                 | ${response} | ${'assertions[0]: header x-request-id exists (missing)'}
    ${header('constructor', 'exists')}                  | ${response} | ${'assertions[0]: header constructor exists (missing)'}
    ${header('x-remaining', 'not_exists')}              | ${response} | ${'assertions[0]: header x-remaining not_exists (got "42")'}
    ${header('x-remaining', 'lt', 10)}                  | ${response} | ${'assertions[0]: header x-remaining lt 10 (got "42")'}
    ${header('content-type', 'gt', 0)}                  | ${response} | ${'assertions[0]: header content-type gt 0 (got "application/json; charset=utf-8")'}
    ${header('x-empty', 'gte', 0)}                      | ${response} | ${'assertions[0]: header x-empty gte 0 (got "")'}
    ${header('x-nope', 'eq', 'x')}                      | ${response} | ${'assertions[0]: header x-nope eq "x" (missing)'}
    ${header('x-remaining', 'in', ['1'])}               | ${response} | ${'assertions[0]: header x-remaining in ["1"] (got "42")'}
    ${status('eq', 200)}                                | ${text}     | ${'assertions[0]: status eq 200 (got 503)'}
    ${status('neq', 503)}                               | ${text}     | ${'assertions[0]: status neq 503 (got 503)'}
    ${status('in', [200, 201])}                         | ${text}     | ${'assertions[0]: status in [200,201] (got 503)'}
    ${status('lt', 500)}                                | ${text}     | ${'assertions[0]: status lt 500 (got 503)'}
    ${status('lte', 502)}                               | ${text}     | ${'assertions[0]: status lte 502 (got 503)'}
    ${status('gt', 503)}                                | ${text}     | ${'assertions[0]: status gt 503 (got 503)'}
    ${status('gte', 504)}                               | ${text}     | ${'assertions[0]: status gte 504 (got 503)'}
    ${status('matches', '^2')}                          | ${text}     | ${'assertions[0]: status matches "^2" (got 503)'}
    ${raw('eq', 'OK')}                                  | ${text}     | ${'assertions[0]: body eq "OK" (got "Service Unavailable")'}
    ${raw('neq', 'Service Unavailable')}                | ${text}     | ${'assertions[0]: body neq "Service Unavailable" (got "Service Unavailable")'}
    ${raw('contains', 'OK')}                            | ${text}     | ${'assertions[0]: body contains "OK" (got "Service Unavailable")'}
    ${raw('not_contains', 'Unavailable')}               | ${text}     | ${'assertions[0]: body not_contains "Unavailable" (got "Service Unavailable")'}
    ${raw('matches', '^OK')}                            | ${text}     | ${'assertions[0]: body matches "^OK" (got "Service Unavailable")'}
    ${raw('in', ['OK', 'READY'])}                       | ${text}     | ${'assertions[0]: body in ["OK","READY"] (got "Service Unavailable")'}
    ${raw('gt', 1)}                                     | ${text}     | ${'assertions[0]: body gt 1 (got "Service Unavailable")'}
  `('fails: $why', ({ assertion, r, why }) => {
    expect(check(assertion, r)).toEqual({ ok: false, rule: why });
  });

  it('reads numeric body text for gt/gte/lt/lte', () => {
    expect(check(raw('gte', 41.5), { status: 200, headers: {}, body: ' 42\n' })).toEqual({ ok: true });
    expect(check(raw('lt', 0), { status: 200, headers: {}, body: '-1e3' })).toEqual({ ok: true });
  });

  it('checks body_contains and body_not_contains first, then assertions in order, naming the first failure', () => {
    const matcher = {
      body_contains: 'READY',
      body_not_contains: 'ERROR',
      assertions: [status('eq', 200), json('$.status', 'eq', 'ok'), json('$.count', 'eq', 4), json('$.x', 'exists')],
    };
    expect(evaluateMatcher(matcher, response, linearRegexEngine)).toEqual({ ok: false, rule: 'assertions[2]: $.count eq 4 (got 3)' });
    expect(evaluateMatcher({ ...matcher, body_contains: 'DOWN' }, response, linearRegexEngine)).toEqual({ ok: false, rule: 'body_contains "DOWN"' });
    expect(evaluateMatcher({ ...matcher, body_not_contains: 'READY' }, response, linearRegexEngine)).toEqual({ ok: false, rule: 'body_not_contains "READY"' });
    expect(evaluateMatcher({ body_contains: 'READY', body_not_contains: 'ERROR' }, response, linearRegexEngine)).toEqual({ ok: true });
  });

  it('keeps rule texts short when values are long', () => {
    const long = { status: 200, headers: {}, body: 'x'.repeat(10_000) };
    const result = evaluateMatcher({ assertions: [raw('eq', 'y')] }, long, linearRegexEngine);
    expect(result).toEqual({ ok: false, rule: `assertions[0]: body eq "y" (got "${'x'.repeat(99)}…)` });
  });

  it('fails a matches rule on text longer than the pattern may test', () => {
    const engine = createLinearRegexEngine({ stepBudget: 1000, minInputLength: 10 });
    const result = evaluateMatcher({ assertions: [raw('matches', 'abc')] }, { status: 200, headers: {}, body: 'x'.repeat(400) }, engine);
    expect(result).toEqual({ ok: false, rule: 'assertions[0]: body matches "abc" (got 400 characters; this pattern tests at most 333)' });
  });

  it('fails closed when the engine refuses a stored pattern', () => {
    const result = check(raw('matches', '(a)\\1'));
    expect(result).toEqual({
      ok: false,
      rule: 'assertions[0]: body matches "(a)\\\\1" (pattern uses a feature the linear-time engine cannot run (backreferences, lookahead/lookbehind, or a counted repetition above 16))',
    });
  });

  it('a catastrophic pattern on a long body completes with the right answer', () => {
    const long = { status: 200, headers: {}, body: 'a'.repeat(50_000) + 'b' };
    expect(evaluateMatcher({ assertions: [raw('matches', '^(a+)+$')] }, long, linearRegexEngine)).toEqual({
      ok: false,
      rule: `assertions[0]: body matches "^(a+)+$" (got "${'a'.repeat(99)}…)`,
    });
    expect(evaluateMatcher({ assertions: [raw('matches', '^(a|aa)+b$')] }, long, linearRegexEngine)).toEqual({ ok: true });
  });
});
