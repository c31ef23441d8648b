import { headers as natsHeaders } from '@nats-io/nats-core';
import { WORKSPACE_HEADER } from '@trigrun/messaging';
import { engineFairness, workspaceOfEvent } from './topology';

const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const withHeader = (value: string) => {
  const h = natsHeaders();
  h.set(WORKSPACE_HEADER, value);
  return h;
};

describe('workspaceOfEvent', () => {
  it('reads the header written at append, without looking at the payload', () => {
    expect(workspaceOfEvent({ headers: withHeader('ws_1'), data: new TextEncoder().encode('not json') })).toBe('ws_1');
  });

  it('falls back to the payload for events appended before the header existed', () => {
    expect(workspaceOfEvent({ data: payload({ type: 'ExecutionQueued', workspace_id: 'ws_old' }) })).toBe('ws_old');
    expect(workspaceOfEvent({ headers: natsHeaders(), data: payload({ workspace_id: 'ws_old' }) })).toBe('ws_old');
  });

  it('gives one shared key to events without a usable workspace, and throws on an unreadable payload', () => {
    expect(workspaceOfEvent({ data: payload({ workspace_id: 42 }) })).toBe('');
    expect(workspaceOfEvent({ data: payload(null) })).toBe('');
    expect(() => workspaceOfEvent({ data: new TextEncoder().encode('{"workspace_id":') })).toThrow(SyntaxError);
  });

  it('ignores a header value that is not a plain token and reads the payload instead', () => {
    expect(workspaceOfEvent({ headers: withHeader('ws 1'), data: payload({ workspace_id: 'ws_1' }) })).toBe('ws_1');
  });
});

describe('engineFairness', () => {
  it('caps a workspace at a quarter of the engine concurrency unless told otherwise, never above it', () => {
    expect(engineFairness(256).maxInFlightPerKey).toBe(64);
    expect(engineFairness(3).maxInFlightPerKey).toBe(1);
    expect(engineFairness(256, 10).maxInFlightPerKey).toBe(10);
    expect(engineFairness(256, 1000).maxInFlightPerKey).toBe(256);
    expect(engineFairness(256)).toMatchObject({ maxBufferedPerKey: 1024, maxBuffered: 1024 });
  });
});
