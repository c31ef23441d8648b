import { MAX_STEPS, normalizeSteps } from './workflow-steps';

const http = (fields: Record<string, unknown> = {}) => ({ id: 'call', type: 'http', url: 'https://example.com/a', ...fields });
const wait = (fields: Record<string, unknown> = {}) => ({ id: 'wait', type: 'wait_for_webhook', ...fields });
const approval = (fields: Record<string, unknown> = {}) => ({ id: 'review', type: 'approval', message: 'Ship it?', ...fields });

/** The problems of a one-step workflow whose step is `step`. */
const problemsOf = (step: unknown) => normalizeSteps([step]).problems;

describe('normalizeSteps', () => {
  it('fills the defaults of every step type and keeps only the spec fields', () => {
    expect(normalizeSteps([http(), wait(), approval()])).toEqual({
      value: [
        {
          id: 'call',
          type: 'http',
          url: 'https://example.com/a',
          method: 'GET',
          headers: {},
          timeout_seconds: 30,
          success_statuses: [200, 201, 202, 204],
          retry_policy: { max_attempts: 3, retry_on_statuses: [429, 500, 502, 503, 504] },
        },
        { id: 'wait', type: 'wait_for_webhook', timeout_seconds: null, on_timeout: 'fail' },
        { id: 'review', type: 'approval', message: 'Ship it?', timeout_seconds: null, on_timeout: 'reject' },
      ],
      problems: [],
    });
  });

  it('keeps what was given: request fields, retry policy, timeouts, on_timeout and extraction', () => {
    const { value, problems } = normalizeSteps([
      http({
        method: 'POST',
        headers: { 'X-Order': '{{context.order_id}}' },
        body: { id: '{{trigger.body.order.id}}', at: '{{timestamp}}', n: 1 },
        timeout_seconds: 10,
        success_statuses: [200, 200, 201],
        retry_policy: { max_attempts: 5 },
        response_matcher: null,
        extract: { order_id: '$.order.id' },
        extract_to_context: { cursor: '$.next' },
      }),
      wait({ timeout_seconds: 7200, on_timeout: 'continue', extract: { payload: '$' } }),
      approval({ message: 'Approve {{context.order_id}} ({{execution_id}})?', timeout_seconds: 60, on_timeout: 'approve', extract_to_context: { verdict: '$.decision' } }),
    ]);
    expect(problems).toEqual([]);
    expect(value).toEqual([
      {
        id: 'call',
        type: 'http',
        url: 'https://example.com/a',
        method: 'POST',
        headers: { 'X-Order': '{{context.order_id}}' },
        body: { id: '{{trigger.body.order.id}}', at: '{{timestamp}}', n: 1 },
        timeout_seconds: 10,
        success_statuses: [200, 201],
        retry_policy: { max_attempts: 5, retry_on_statuses: [429, 500, 502, 503, 504] },
        extract: { order_id: '$.order.id' },
        extract_to_context: { cursor: '$.next' },
      },
      { id: 'wait', type: 'wait_for_webhook', timeout_seconds: 7200, on_timeout: 'continue', extract: { payload: '$' } },
      { id: 'review', type: 'approval', message: 'Approve {{context.order_id}} ({{execution_id}})?', timeout_seconds: 60, on_timeout: 'approve', extract_to_context: { verdict: '$.decision' } },
    ]);
  });

  it.each`
    input                                                         | message
    ${undefined}                                                  | ${'is required: a workflow runs a non-empty list of steps'}
    ${null}                                                       | ${'is required: a workflow runs a non-empty list of steps'}
    ${[]}                                                         | ${'must be a non-empty list of steps'}
    ${{ id: 'a' }}                                                | ${'must be a non-empty list of steps'}
    ${Array.from({ length: MAX_STEPS + 1 }, (_, i) => wait({ id: `s${i}` }))} | ${'must have at most 50 steps'}
  `('steps itself: $message', ({ input, message }) => {
    expect(normalizeSteps(input)).toEqual({ problems: [{ field: 'steps', message }] });
  });

  it('accepts exactly 50 steps', () => {
    expect(normalizeSteps(Array.from({ length: MAX_STEPS }, (_, i) => wait({ id: `s${i}` }))).value).toHaveLength(MAX_STEPS);
  });

  it.each`
    case                                 | step                                                                | field                                     | message
    ${'a step that is not an object'}    | ${'http'}                                                           | ${'steps[0]'}                             | ${'must be an object with an id and a type'}
    ${'an array step'}                   | ${[]}                                                               | ${'steps[0]'}                             | ${'must be an object with an id and a type'}
    ${'a missing id'}                    | ${{ type: 'wait_for_webhook' }}                                     | ${'steps[0].id'}                          | ${'is required'}
    ${'an upper-case id'}                | ${wait({ id: 'Fetch' })}                                            | ${'steps[0].id'}                          | ${'must be 1-64 characters of a-z, 0-9, _ and -'}
    ${'an id with a space'}              | ${wait({ id: 'a b' })}                                              | ${'steps[0].id'}                          | ${'must be 1-64 characters of a-z, 0-9, _ and -'}
    ${'an empty id'}                     | ${wait({ id: '' })}                                                 | ${'steps[0].id'}                          | ${'must be 1-64 characters of a-z, 0-9, _ and -'}
    ${'a 65-character id'}               | ${wait({ id: 'a'.repeat(65) })}                                     | ${'steps[0].id'}                          | ${'must be 1-64 characters of a-z, 0-9, _ and -'}
    ${'a numeric id'}                    | ${wait({ id: 7 })}                                                  | ${'steps[0].id'}                          | ${'must be 1-64 characters of a-z, 0-9, _ and -'}
    ${'a missing type'}                  | ${{ id: 'x' }}                                                      | ${'steps[0].type'}                        | ${'is required: one of http, wait_for_webhook, approval (step "x")'}
    ${'an unknown type'}                 | ${{ id: 'x', type: 'sleep' }}                                       | ${'steps[0].type'}                        | ${'"sleep" is not a step type: must be one of http, wait_for_webhook, approval (step "x")'}
    ${'a non-string type'}               | ${{ id: 'x', type: 3 }}                                             | ${'steps[0].type'}                        | ${'is not a step type: must be one of http, wait_for_webhook, approval (step "x")'}
    ${'an unknown field'}                | ${wait({ url: 'https://e.com' })}                                   | ${'steps[0].url'}                         | ${'is not a field of wait_for_webhook steps (step "wait")'}
    ${'a message on an http step'}       | ${http({ message: 'hi' })}                                          | ${'steps[0].message'}                     | ${'is not a field of http steps (step "call")'}
    ${'retry_policy on an approval'}     | ${approval({ retry_policy: {} })}                                   | ${'steps[0].retry_policy'}                | ${'is not a field of approval steps (step "review")'}
    ${'an http step without url'}        | ${{ id: 'call', type: 'http' }}                                     | ${'steps[0].url'}                         | ${'is required (step "call")'}
    ${'an ftp url'}                      | ${http({ url: 'ftp://e.com' })}                                     | ${'steps[0].url'}                         | ${'must use http or https (step "call")'}
    ${'a bad method'}                    | ${http({ method: 'TRACE' })}                                        | ${'steps[0].method'}                      | ${'must be one of GET, POST, PUT, PATCH, DELETE (step "call")'}
    ${'a bad header value'}              | ${http({ headers: { 'X-A': 1 } })}                                  | ${'steps[0].headers.X-A'}                 | ${'must be a string (step "call")'}
    ${'a reserved header'}               | ${http({ headers: { Host: 'x' } })}                                 | ${'steps[0].headers.Host'}                | ${'is set by the platform (step "call")'}
    ${'a timeout over 300'}              | ${http({ timeout_seconds: 301 })}                                   | ${'steps[0].timeout_seconds'}             | ${'must be an integer from 1 to 300 (step "call")'}
    ${'empty success_statuses'}          | ${http({ success_statuses: [] })}                                   | ${'steps[0].success_statuses'}            | ${'must be a non-empty list of HTTP status codes (100-599) (step "call")'}
    ${'a body with GET'}                 | ${http({ body: { a: 1 } })}                                         | ${'steps[0].body'}                        | ${'is not allowed with GET (step "call")'}
    ${'a bad response_matcher'}          | ${http({ response_matcher: 'yes' })}                                | ${'steps[0].response_matcher'}            | ${'must be an object (step "call")'}
    ${'max_attempts over 10'}            | ${http({ retry_policy: { max_attempts: 11 } })}                     | ${'steps[0].retry_policy.max_attempts'}   | ${'must be an integer from 1 to 10 (step "call")'}
    ${'a retry_policy array'}            | ${http({ retry_policy: [] })}                                       | ${'steps[0].retry_policy'}                | ${'must be an object (step "call")'}
    ${'an unknown url template'}         | ${http({ url: 'https://e.com/{{secret}}' })}                        | ${'steps[0].url'}                         | ${'unknown template variable "secret"; allowed: timestamp, uuid, execution_id, context.*, trigger.* (step "call")'}
    ${'an unknown header template'}      | ${http({ headers: { 'X-A': '{{env.HOME}}' } })}                     | ${'steps[0].headers.X-A'}                 | ${'unknown template variable "env.HOME"; allowed: timestamp, uuid, execution_id, context.*, trigger.* (step "call")'}
    ${'an unknown body template'}        | ${http({ method: 'POST', body: { a: ['{{steps.x}}'] } })}           | ${'steps[0].body.a[0]'}                   | ${'unknown template variable "steps.x"; allowed: timestamp, uuid, execution_id, context.*, trigger.* (step "call")'}
    ${'a prototype-walking template'}    | ${http({ url: 'https://e.com/{{context.__proto__}}' })}             | ${'steps[0].url'}                         | ${'template variable "context.__proto__" uses the reserved name "__proto__" (step "call")'}
    ${'a wait timeout of 0'}             | ${wait({ timeout_seconds: 0 })}                                     | ${'steps[0].timeout_seconds'}             | ${'must be an integer from 1 to 7200, or null for the rest of the workflow (step "wait")'}
    ${'a wait timeout over 7200'}        | ${wait({ timeout_seconds: 7201 })}                                  | ${'steps[0].timeout_seconds'}             | ${'must be an integer from 1 to 7200, or null for the rest of the workflow (step "wait")'}
    ${'a fractional wait timeout'}       | ${wait({ timeout_seconds: 1.5 })}                                   | ${'steps[0].timeout_seconds'}             | ${'must be an integer from 1 to 7200, or null for the rest of the workflow (step "wait")'}
    ${'a string wait timeout'}           | ${wait({ timeout_seconds: '60' })}                                  | ${'steps[0].timeout_seconds'}             | ${'must be an integer from 1 to 7200, or null for the rest of the workflow (step "wait")'}
    ${'a wait on_timeout of reject'}     | ${wait({ on_timeout: 'reject' })}                                   | ${'steps[0].on_timeout'}                  | ${'must be one of fail, continue (step "wait")'}
    ${'an approval without message'}     | ${{ id: 'review', type: 'approval' }}                               | ${'steps[0].message'}                     | ${'is required: the text the reviewer sees (step "review")'}
    ${'a blank message'}                 | ${approval({ message: '  ' })}                                      | ${'steps[0].message'}                     | ${'must be a non-empty string (step "review")'}
    ${'a non-string message'}            | ${approval({ message: { text: 'x' } })}                             | ${'steps[0].message'}                     | ${'must be a non-empty string (step "review")'}
    ${'a 4001-character message'}        | ${approval({ message: 'x'.repeat(4001) })}                          | ${'steps[0].message'}                     | ${'must be at most 4000 characters (step "review")'}
    ${'an unknown message template'}     | ${approval({ message: 'hi {{user.name}}' })}                        | ${'steps[0].message'}                     | ${'unknown template variable "user.name"; allowed: timestamp, uuid, execution_id, context.*, trigger.* (step "review")'}
    ${'an invalid message template'}     | ${approval({ message: 'hi {{ a b }}' })}                            | ${'steps[0].message'}                     | ${'invalid template "{{ a b }}": a template holds one variable path (letters, digits, _ and -, joined by dots) (step "review")'}
    ${'an approval timeout over 7200'}   | ${approval({ timeout_seconds: 9000 })}                              | ${'steps[0].timeout_seconds'}             | ${'must be an integer from 1 to 7200, or null for the rest of the workflow (step "review")'}
    ${'an approval on_timeout of fail'}  | ${approval({ on_timeout: 'fail' })}                                 | ${'steps[0].on_timeout'}                  | ${'must be one of reject, approve (step "review")'}
    ${'extract as a string'}             | ${wait({ extract: '$.a' })}                                         | ${'steps[0].extract'}                     | ${'must be an object of names to JSONPath strings, e.g. {"order_id": "$.order.id"} (step "wait")'}
    ${'extract as an array'}             | ${wait({ extract: ['$.a'] })}                                       | ${'steps[0].extract'}                     | ${'must be an object of names to JSONPath strings, e.g. {"order_id": "$.order.id"} (step "wait")'}
    ${'a name starting with a digit'}    | ${wait({ extract: { '1st': '$.a' } })}                              | ${'steps[0].extract.1st'}                 | ${'is not a valid name: a letter or _, then letters, digits and _, at most 64 characters (step "wait")'}
    ${'a dotted name'}                   | ${wait({ extract: { 'a.b': '$.a' } })}                              | ${'steps[0].extract.a.b'}                 | ${'is not a valid name: a letter or _, then letters, digits and _, at most 64 characters (step "wait")'}
    ${'a dashed name'}                   | ${wait({ extract_to_context: { 'a-b': '$.a' } })}                   | ${'steps[0].extract_to_context.a-b'}      | ${'is not a valid name: a letter or _, then letters, digits and _, at most 64 characters (step "wait")'}
    ${'a 65-character name'}             | ${wait({ extract: { ['a'.repeat(65)]: '$.a' } })}                   | ${`steps[0].extract.${'a'.repeat(65)}`}   | ${'is not a valid name: a letter or _, then letters, digits and _, at most 64 characters (step "wait")'}
    ${'a reserved name'}                 | ${wait({ extract: { constructor: '$.a' } })}                        | ${'steps[0].extract.constructor'}         | ${'is a reserved name (step "wait")'}
    ${'a non-string path'}               | ${wait({ extract: { a: 1 } })}                                      | ${'steps[0].extract.a'}                   | ${'must be a JSONPath string such as "$.order.id" (step "wait")'}
    ${'a path without $'}                | ${http({ extract: { order_id: 'order.id' } })}                      | ${'steps[0].extract.order_id'}            | ${"is not a valid JSONPath: a path starts with '$' at position 0 (step \"call\")"}
    ${'a recursive-descent path'}        | ${approval({ extract_to_context: { d: '$..decision' } })}           | ${'steps[0].extract_to_context.d'}        | ${'is not a valid JSONPath: recursive descent (..) is not supported at position 1 (step "review")'}
    ${'a filter path'}                   | ${http({ extract: { x: '$.items[?(@.a)]' } })}                      | ${'steps[0].extract.x'}                   | ${expect.stringMatching(/^is not a valid JSONPath: .* \(step "call"\)$/)}
    ${'one name, two paths'}             | ${wait({ extract: { a: '$.a' }, extract_to_context: { a: '$.b' } })} | ${'steps[0].extract_to_context.a'}        | ${'is also in extract with another path; extract_to_context already puts "a" in the execution\'s context (step "wait")'}
  `('$case → $field', ({ step, field, message }) => {
    expect(problemsOf(step)).toContainEqual({ field, message });
  });

  it('allows the same name in extract and extract_to_context when the paths agree', () => {
    expect(problemsOf(wait({ extract: { a: '$.a' }, extract_to_context: { a: '$.a' } }))).toEqual([]);
  });

  it('names the step by its position and its id, wherever it is in the list', () => {
    const { problems } = normalizeSteps([http(), wait(), approval({ id: 'third', on_timeout: 'later' })]);
    expect(problems).toEqual([{ field: 'steps[2].on_timeout', message: 'must be one of reject, approve (step "third")' }]);
  });

  it('quotes only a well-formed id back', () => {
    const [problem] = problemsOf({ id: 'Bad Id', type: 'approval' }).filter((p) => p.field === 'steps[0].message');
    expect(problem!.message).toBe('is required: the text the reviewer sees');
  });

  it('refuses a duplicate id and points at the first use', () => {
    expect(normalizeSteps([wait({ id: 'a' }), http({ id: 'b' }), approval({ id: 'a' })]).problems).toEqual([
      { field: 'steps[2].id', message: 'duplicates steps[0].id ("a"); step ids are unique in a job (step "a")' },
    ]);
  });

  it('reports every problem of every step at once', () => {
    const { value, problems } = normalizeSteps([http({ url: 'ftp://x', method: 'NOPE' }), { id: 'x', type: 'nope' }, approval({ message: 1, extract: { '9': '$' } })]);
    expect(value).toBeUndefined();
    expect(problems.map((p) => p.field)).toEqual(['steps[0].url', 'steps[0].method', 'steps[1].type', 'steps[2].extract.9', 'steps[2].message']);
  });

  it('uses another field prefix when asked', () => {
    expect(normalizeSteps([wait({ on_timeout: 'x' })], 'definition.steps').problems).toEqual([
      { field: 'definition.steps[0].on_timeout', message: 'must be one of fail, continue (step "wait")' },
    ]);
  });

  it('treats null extraction as none and keeps an empty one', () => {
    expect(normalizeSteps([wait({ extract: null, extract_to_context: {} })]).value).toEqual([
      { id: 'wait', type: 'wait_for_webhook', timeout_seconds: null, on_timeout: 'fail', extract_to_context: {} },
    ]);
  });

  it('refuses more than 100 names in one extraction', () => {
    const extract = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`n${i}`, '$.a']));
    expect(problemsOf(wait({ extract }))).toEqual([{ field: 'steps[0].extract', message: 'must have at most 100 names (step "wait")' }]);
  });

  it('cannot be tricked by a __proto__ key into changing a prototype', () => {
    const step = JSON.parse('{"id":"w","type":"wait_for_webhook","extract":{"__proto__":"$.a"}}');
    expect(problemsOf(step)).toEqual([{ field: 'steps[0].extract.__proto__', message: 'is a reserved name (step "w")' }]);
  });
});
