import type { ExecutionEvent, NewExecutionEvent } from '@trigrun/execution-contracts';
import { type ExecutionCommand, type ExecutionState, type IgnoreCode, decide, evolve, initialState, isIgnore, nextAction } from '../execution.decider';
import { T0 } from './fixtures';

/**
 * The decider's specs as given(past events) / when(command) / then(new events | ignore), for
 * request jobs and workflows alike (not for production code). Fixtures: ./fixtures.ts.
 */
export * from './fixtures';

/** The envelope the store would give the event at `position` of execution exec_1 (job_1, ws_1), at T0. */
export function envelope(e: NewExecutionEvent, position: number): ExecutionEvent {
  return { ...e, version: 1, id: `evt_${position}`, execution_id: 'exec_1', job_id: 'job_1', workspace_id: 'ws_1', occurred_at: T0, position } as ExecutionEvent;
}

/** What a command should yield: these events exactly, an ignore, or an ignore with this code. */
export type Expected = readonly NewExecutionEvent[] | 'ignore' | { readonly ignore: IgnoreCode };

/**
 * given(past events) / when(command) / then(expected). `then` returns the new events, so a test can
 * go on from them; `state` is the folded history and `next(now)` what it asks of the shell.
 */
export function given(...history: NewExecutionEvent[]) {
  const state = history.map((e, i) => envelope(e, i + 1)).reduce<ExecutionState>(evolve, initialState());
  return {
    state,
    next: (now: string) => nextAction(state, now),
    when: (command: ExecutionCommand) => ({
      then: (expected: Expected): NewExecutionEvent[] => {
        const result = decide(command, state);
        if (expected === 'ignore') {
          expect(result).toMatchObject({ ignore: true });
          return [];
        }
        if ('ignore' in expected) {
          expect(result).toMatchObject({ ignore: true, code: expected.ignore });
          return [];
        }
        expect(result).toEqual(expected);
        return isIgnore(result) ? [] : [...result];
      },
    }),
  };
}
