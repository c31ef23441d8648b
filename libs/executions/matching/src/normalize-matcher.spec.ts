import { normalizeMatcher } from './normalize-matcher';
import { type RegexEngine, UnsafePatternError } from './regex-engine';

const F = 'request.response_matcher';
const A = `${F}.assertions[0]`;
const one = (assertion: unknown) => normalizeMatcher({ assertions: [assertion] }, F);

describe('normalizeMatcher', () => {
  it('means "no matcher" for undefined and null', () => {
    expect(normalizeMatcher(undefined, F)).toEqual({ problems: [] });
    expect(normalizeMatcher(null, F)).toEqual({ problems: [] });
  });

  it('keeps valid rules, lower-cases header names and drops nothing else', () => {
    const input = {
      body_contains: 'READY',
      body_not_contains: 'ERROR',
      assertions: [
        { source: 'json', path: '$.status', op: 'eq', value: 'ok' },
        { source: 'json', path: '$.items[*].id', op: 'contains', value: 'a' },
        { source: 'json', path: '$.error', op: 'not_exists' },
        { source: 'header', name: 'Content-Type', op: 'matches', value: '^application/json' },
        { source: 'header', name: 'X-Remaining', op: 'gte', value: 1 },
        { source: 'status', op: 'in', value: [200, 201] },
        { source: 'body', op: 'neq', value: '' },
      ],
    };
    expect(normalizeMatcher(input, F)).toEqual({
      value: {
        body_contains: 'READY',
        body_not_contains: 'ERROR',
        assertions: [
          { source: 'json', path: '$.status', op: 'eq', value: 'ok' },
          { source: 'json', path: '$.items[*].id', op: 'contains', value: 'a' },
          { source: 'json', path: '$.error', op: 'not_exists' },
          { source: 'header', name: 'content-type', op: 'matches', value: '^application/json' },
          { source: 'header', name: 'x-remaining', op: 'gte', value: 1 },
          { source: 'status', op: 'in', value: [200, 201] },
          { source: 'body', op: 'neq', value: '' },
        ],
      },
      problems: [],
    });
    expect(normalizeMatcher({}, F)).toEqual({ value: {}, problems: [] });
  });

  it.each`
    input                                                                       | field                            | message
    ${'READY'}                                                                  | ${F}                             | ${'must be an object'}
    ${[]}                                                                       | ${F}                             | ${'must be an object'}
    ${{ body_contain: 'x' }}                                                    | ${`${F}.body_contain`}           | ${'is not a known field'}
    ${{ body_contains: '' }}                                                    | ${`${F}.body_contains`}          | ${'must be a non-empty string'}
    ${{ body_not_contains: 5 }}                                                 | ${`${F}.body_not_contains`}      | ${'must be a non-empty string'}
    ${{ body_contains: 'x'.repeat(4097) }}                                      | ${`${F}.body_contains`}          | ${'must be at most 4096 characters'}
    ${{ assertions: {} }}                                                       | ${`${F}.assertions`}             | ${'must be a list'}
    ${{ assertions: Array(21).fill({ source: 'status', op: 'eq', value: 200 }) }} | ${`${F}.assertions`}           | ${'must have at most 20 entries'}
    ${{ assertions: Array(6).fill({ source: 'body', op: 'matches', value: 'a' }) }} | ${`${F}.assertions`}         | ${'may use op matches at most 5 times'}
    ${{ assertions: ['x'] }}                                                    | ${A}                             | ${'must be an object'}
  `('$field $message', ({ input, field, message }) => {
    expect(normalizeMatcher(input, F)).toEqual({ problems: [{ field, message }] });
  });

  it.each`
    assertion                                                                  | field           | message
    ${{ source: 'xml', op: 'eq', value: 1 }}                                   | ${`${A}.source`} | ${'must be one of json, header, status, body'}
    ${{ op: 'eq', value: 1 }}                                                  | ${`${A}.source`} | ${'must be one of json, header, status, body'}
    ${{ source: 'status', op: 'equals', value: 1 }}                            | ${`${A}.op`}     | ${'must be one of eq, neq, contains, not_contains, matches, exists, not_exists, gt, gte, lt, lte, in'}
    ${{ source: 'status', op: 'eq', value: 200, extra: 1 }}                    | ${`${A}.extra`}  | ${'is not a known field'}
    ${{ source: 'json', op: 'eq', value: 1 }}                                  | ${`${A}.path`}   | ${'must be a JSONPath for source json'}
    ${{ source: 'json', path: 'status', op: 'eq', value: 1 }}                  | ${`${A}.path`}   | ${"is not a valid JSONPath: a path starts with '$' at position 0"}
    ${{ source: 'json', path: '$..id', op: 'exists' }}                         | ${`${A}.path`}   | ${'is not a valid JSONPath: recursive descent (..) is not supported at position 1'}
    ${{ source: 'json', path: '$[?(@.a)]', op: 'exists' }}                     | ${`${A}.path`}   | ${'is not a valid JSONPath: filter expressions are not supported at position 2'}
    ${{ source: 'status', path: '$.a', op: 'eq', value: 200 }}                 | ${`${A}.path`}   | ${'is only used with source json'}
    ${{ source: 'header', op: 'exists' }}                                      | ${`${A}.name`}   | ${'must be a header name for source header'}
    ${{ source: 'header', name: 'Bad Name', op: 'exists' }}                    | ${`${A}.name`}   | ${'must be a header name for source header'}
    ${{ source: 'body', name: 'x', op: 'eq', value: 'a' }}                     | ${`${A}.name`}   | ${'is only used with source header'}
    ${{ source: 'status', op: 'contains', value: '2' }}                        | ${`${A}.op`}     | ${'contains is not available for source status'}
    ${{ source: 'status', op: 'exists' }}                                      | ${`${A}.op`}     | ${'exists is not available for source status'}
    ${{ source: 'body', op: 'not_exists' }}                                    | ${`${A}.op`}     | ${'not_exists is not available for source body'}
    ${{ source: 'json', path: '$.a', op: 'eq' }}                               | ${`${A}.value`}  | ${'is required for op eq'}
    ${{ source: 'header', name: 'a', op: 'matches' }}                          | ${`${A}.value`}  | ${'is required for op matches'}
    ${{ source: 'json', path: '$.a', op: 'exists', value: true }}              | ${`${A}.value`}  | ${'must be omitted for op exists'}
    ${{ source: 'header', name: 'a', op: 'not_exists', value: 'x' }}           | ${`${A}.value`}  | ${'must be omitted for op not_exists'}
    ${{ source: 'json', path: '$.a', op: 'in', value: 'ok' }}                  | ${`${A}.value`}  | ${'must be a non-empty list for op in'}
    ${{ source: 'json', path: '$.a', op: 'in', value: [] }}                    | ${`${A}.value`}  | ${'must be a non-empty list for op in'}
    ${{ source: 'status', op: 'in', value: [200, '201'] }}                     | ${`${A}.value`}  | ${'must be a list of integer status codes for source status'}
    ${{ source: 'header', name: 'a', op: 'in', value: ['x', 1] }}              | ${`${A}.value`}  | ${'must be a list of strings for source header'}
    ${{ source: 'json', path: '$.a', op: 'gt', value: '5' }}                   | ${`${A}.value`}  | ${'must be a number for op gt'}
    ${{ source: 'status', op: 'lte', value: null }}                            | ${`${A}.value`}  | ${'must be a number for op lte'}
    ${{ source: 'status', op: 'eq', value: '200' }}                            | ${`${A}.value`}  | ${'must be an integer status code for source status'}
    ${{ source: 'header', name: 'a', op: 'eq', value: 1 }}                     | ${`${A}.value`}  | ${'must be a string for source header'}
    ${{ source: 'body', op: 'contains', value: ['x'] }}                        | ${`${A}.value`}  | ${'must be a string for source body'}
    ${{ source: 'body', op: 'matches', value: 5 }}                             | ${`${A}.value`}  | ${'must be a string pattern for op matches'}
    ${{ source: 'body', op: 'matches', value: '(a)\\1' }}                      | ${`${A}.value`}  | ${'uses a feature the linear-time engine cannot run (backreferences, lookahead/lookbehind, or a counted repetition above 16)'}
    ${{ source: 'body', op: 'matches', value: '(?<=x)y' }}                     | ${`${A}.value`}  | ${'uses a feature the linear-time engine cannot run (backreferences, lookahead/lookbehind, or a counted repetition above 16)'}
    ${{ source: 'body', op: 'matches', value: '(' }}                           | ${`${A}.value`}  | ${'is not a valid regular expression: Unterminated group'}
    ${{ source: 'body', op: 'matches', value: 'a'.repeat(513) }}               | ${`${A}.value`}  | ${'must be at most 512 characters'}
  `('$field $message', ({ assertion, field, message }) => {
    expect(one(assertion)).toEqual({ problems: [{ field, message }] });
  });

  it('reports every problem at once, across assertions', () => {
    const { problems } = normalizeMatcher(
      { body_contains: '', assertions: [{ source: 'json', op: 'eq' }, { source: 'status', op: 'gt', value: 'x' }], nope: 1 },
      F,
    );
    expect(problems.map((p) => p.field)).toEqual([`${F}.nope`, `${F}.body_contains`, `${A}.path`, `${A}.value`, `${F}.assertions[1].value`]);
  });

  it('compiles matches patterns with the engine it is given', () => {
    const refusing: RegexEngine = {
      compile: () => {
        throw new UnsafePatternError('x', 'is refused by this engine');
      },
    };
    expect(normalizeMatcher({ assertions: [{ source: 'body', op: 'matches', value: 'ok' }] }, F, refusing).problems).toEqual([
      { field: `${A}.value`, message: 'is refused by this engine' },
    ]);
  });
});
