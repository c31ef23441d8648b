import type { HttpStepSpec, NewExecutionEvent } from '@trigrun/execution-contracts';
import { contextOf, decide, isIgnore } from './execution.decider';
import { at, attempt, completed, given, httpStep, progressOf, queued, recorded, started, stepStarted, workflow } from './testing';

/** Workflows, the execution context: extract and extract_to_context, and persisting the latter. given(past events) / when(command) / then(new events | ignore), from ./testing. */

// ================================================================= context updates

describe('workflow decider: persisting extract_to_context', () => {
  const first = httpStep({ id: 'first', extract_to_context: { cursor: '$.next' } });
  const second = httpStep({ id: 'second', url: 'https://api.example.com/page/{{context.cursor}}' });
  const job = workflow([first, second]);
  const input = { method: 'POST', url: 'https://api.example.com/items/42', headers: {} };
  const history = [queued(job), started({ item_id: '42' }), stepStarted(first, 0, input), recorded('first', attempt(1), null, { next: 'c-2' })];

  it('asks the shell to persist the updates before the next step starts', () => {
    const { state, next } = given(...history, completed('first', { next: 'c-2' }, { cursor: 'c-2' }, { cursor: 'c-2' }));
    expect(next(at(2))).toEqual({ type: 'start_step', step: second, index: 1, persistContext: { cursor: 'c-2' } });
    expect(contextOf(state)).toEqual({ item_id: '42', cursor: 'c-2' });
  });

  it('drops them once the next step has started', () => {
    const done = completed('first', { next: 'c-2' }, { cursor: 'c-2' }, { cursor: 'c-2' });
    const events = given(...history, done)
      .when({ type: 'StartStep', now: at(2) })
      .then([stepStarted(second, 1, { method: 'POST', url: 'https://api.example.com/page/c-2', headers: {} })]);
    const { state, next } = given(...history, done, ...events);
    expect(progressOf(state).pendingContext).toBeNull();
    expect(next(at(2))).not.toHaveProperty('persistContext');
    const finished = given(...history, done, ...events, recorded('second', attempt(1), null, {}), completed('second', {}));
    expect(finished.next(at(3))).toEqual({ type: 'finish', persistContext: null });
  });

  it('carries the last step’s updates on finish', () => {
    const only = workflow([first]);
    const { next } = given(queued(only), started({ item_id: '42' }), stepStarted(first, 0, input), completed('first', { next: 'c-9' }, { cursor: 'c-9' }, { cursor: 'c-9' }));
    expect(next(at(2))).toEqual({ type: 'finish', persistContext: { cursor: 'c-9' } });
  });

  it('asks for nothing to persist after a step with no extract_to_context', () => {
    const { next } = given(...history, completed('first', { next: 'c-2' }));
    expect(next(at(2))).toEqual({ type: 'start_step', step: second, index: 1, persistContext: null });
  });
});

// ================================================================= extraction

describe('workflow decider: extraction', () => {
  const input = { method: 'GET', url: 'https://api.example.com/items/42', headers: {} };
  const succeed = (step: HttpStepSpec, responseBody: unknown) =>
    given(queued(workflow([step])), started({ item_id: '42' }), stepStarted(step, 0, input)).when({
      type: 'RecordAttempt',
      attempt: attempt(1),
      now: at(1),
      jitter: 0,
      responseBody,
    });

  it('sets nothing for a path that finds nothing', () => {
    const step = httpStep({ extract: { gone: '$.missing.deep', first: '$.items[0]' }, extract_to_context: { also_gone: '$.nope', id: '$.id' } });
    succeed(step, { id: 7, items: [] }).then([recorded('fetch', attempt(1), null, { id: 7, items: [] }), completed('fetch', { id: 7, items: [] }, { id: 7 }, { id: '7' })]);
  });

  it('stores non-string values in the context store as JSON text, and keeps them typed in the context', () => {
    const step = httpStep({ extract_to_context: { n: '$.n', flag: '$.flag', obj: '$.obj', nothing: '$.nothing', text: '$.text', list: '$.list[*].id' } });
    const responseBody = { n: 42, flag: true, obj: { a: [1, 2] }, nothing: null, text: 'plain', list: [{ id: 'x' }, { id: 'y' }] };
    succeed(step, responseBody).then([
      recorded('fetch', attempt(1), null, responseBody),
      completed(
        'fetch',
        responseBody,
        { n: 42, flag: true, obj: { a: [1, 2] }, nothing: null, text: 'plain', list: ['x', 'y'] },
        { n: '42', flag: 'true', obj: '{"a":[1,2]}', nothing: 'null', text: 'plain', list: '["x","y"]' },
      ),
    ]);
  });

  it('makes `__proto__` as a name an own property, never a prototype', () => {
    // Built the way a parsed request body is: an object literal `{ __proto__: … }` would set a prototype instead.
    const spec = httpStep({ extract: JSON.parse('{"__proto__": "$.evil"}'), extract_to_context: JSON.parse('{"__proto__": "$.evil"}') });
    const responseBody = { evil: { polluted: 'yes' } };
    const decision = decide({ type: 'RecordAttempt', attempt: attempt(1), now: at(1), jitter: 0, responseBody }, given(queued(workflow([spec])), started(), stepStarted(spec, 0, input)).state);
    expect(isIgnore(decision)).toBe(false);
    const done = (decision as NewExecutionEvent[])[1];
    expect(done.type).toBe('StepCompleted');
    if (done.type !== 'StepCompleted') return;
    for (const target of [done.data.extracted, done.data.context_updates]) {
      expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
      expect(Object.keys(target)).toEqual(['__proto__']);
      expect((target as Record<string, unknown>).polluted).toBeUndefined();
    }
    expect(Object.getOwnPropertyDescriptor(done.data.extracted, '__proto__')?.value).toEqual({ polluted: 'yes' });
    expect(Object.getOwnPropertyDescriptor(done.data.context_updates, '__proto__')?.value).toBe('{"polluted":"yes"}');

    const { state } = given(queued(workflow([spec])), started(), stepStarted(spec, 0, input), ...(decision as NewExecutionEvent[]));
    const context = contextOf(state);
    expect(Object.getPrototypeOf(context)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(context, '__proto__')?.value).toEqual({ polluted: 'yes' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never reads `__proto__` or `constructor` out of the source', () => {
    const step = httpStep({ extract: { a: '$.__proto__', b: '$.constructor', c: '$.ok' } });
    const responseBody = JSON.parse('{"__proto__": {"x": 1}, "ok": 1}');
    succeed(step, responseBody).then([recorded('fetch', attempt(1), null, responseBody), completed('fetch', responseBody, { c: 1 })]);
  });

  it('lets later steps read extracted values through {{context.name}}, keeping their JSON type', () => {
    const first = httpStep({ id: 'first', extract: { name: '$.customer.name', qty: '$.qty' } });
    const second = httpStep({ id: 'second', url: 'https://api.example.com/greet/{{context.name}}', body: { qty: '{{context.qty}}', who: 'to {{context.name}}' } });
    const job = workflow([first, second]);
    const output = { customer: { name: 'Ada' }, qty: 2 };
    given(queued(job), started(), stepStarted(first, 0, input), recorded('first', attempt(1), null, output), completed('first', output, { name: 'Ada', qty: 2 }))
      .when({ type: 'StartStep', now: at(2) })
      .then([stepStarted(second, 1, { method: 'POST', url: 'https://api.example.com/greet/Ada', headers: {}, body: { qty: 2, who: 'to Ada' } })]);
  });

  it('lets an extracted value replace a seeded one', () => {
    const step = httpStep({ extract_to_context: { item_id: '$.next_item' } });
    const { state } = given(
      queued(workflow([step])),
      started({ item_id: '42', kept: 'yes' }),
      stepStarted(step, 0, input),
      completed('fetch', { next_item: '43' }, { item_id: '43' }, { item_id: '43' }),
    );
    expect(contextOf(state)).toEqual({ item_id: '43', kept: 'yes' });
  });
});
