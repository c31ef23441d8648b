import { toApiError } from './error.filter';
import { dependencyOutage } from './outage';

const named = (name: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { name }, extra);
const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('dependencyOutage', () => {
  it.each([
    ['pg: connection refused', coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), 'unknown'],
    ['MikroORM around a refused connection', named('DriverException', 'connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }), 'postgres'],
    ['pg: two addresses refused (AggregateError in a DriverException)', named('DriverException', 'x', { cause: new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')]) }), 'postgres'],
    ['knex: the SQL before "Connection terminated unexpectedly"', named('DriverException', 'select 1 - Connection terminated unexpectedly'), 'postgres'],
    ['knex: pool acquire timeout', named('KnexTimeoutError', 'Knex: Timeout acquiring a connection. The pool is probably full.'), 'postgres'],
    ['MikroORM ConnectionException', named('ConnectionException', 'x'), 'postgres'],
    ['PostgreSQL shutting down (57P01)', named('DriverException', 'terminating connection due to administrator command', { code: '57P01' }), 'postgres'],
    ['PostgreSQL starting up (57P03)', named('DriverException', 'the database system is starting up', { code: '57P03' }), 'postgres'],
    ['PostgreSQL connection failure (08006)', named('DriverException', 'x', { code: '08006' }), 'postgres'],
    ['too many connections (53300)', named('DriverException', 'x', { code: '53300' }), 'postgres'],
    ['nats: request timeout, wrapped by the event store', new Error('append to a.evt.execution.x failed: timeout', { cause: named('TimeoutError', 'timeout') }), 'nats'],
    ['nats: closed connection', named('ClosedConnectionError', 'closed connection'), 'nats'],
    ['nats: no responders (JetStream not there)', named('NoResponders', 'no responders'), 'nats'],
    ['ioredis: max retries per request', named('MaxRetriesPerRequestError', 'Reached the max retries per request limit (which is 2). Refer to "maxRetriesPerRequest" option for details.'), 'redis'],
    ['ioredis: closed', new Error('Connection is closed.'), 'redis'],
    ['ioredis: command timeout', new Error('Command timed out'), 'redis'],
  ])('%s is an outage of %s', (_what, error, dependency) => {
    expect(dependencyOutage(error)).toBe(dependency);
  });

  it.each([
    ['a unique violation', named('UniqueConstraintViolationException', 'x', { code: '23505' })],
    ['a refused value', named('DriverException', 'x', { code: '22P02' })],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a concurrency conflict', named('ConcurrencyConflict', 'moved past sequence 3')],
    ['not an error', 'Connection terminated'],
  ])('%s is not', (_what, error) => {
    expect(dependencyOutage(error)).toBeNull();
  });

  it('survives a cycle of causes', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    a.cause = a;
    expect(dependencyOutage(a)).toBeNull();
  });
});

describe('toApiError for an outage', () => {
  it('is a 503 unavailable in the envelope with Retry-After, never a 500', () => {
    const error = toApiError(named('DriverException', 'select 1 - Connection terminated unexpectedly'));
    expect(error.status).toBe(503);
    expect(error.headers).toEqual({ 'retry-after': '5' });
    expect(error.toBody()).toEqual({ error: { code: 'unavailable', message: expect.stringContaining('database'), details: { dependency: 'postgres', retry_after_seconds: 5 } } });
  });

  it('answers any HttpException 503 in the envelope too', () => {
    const { ServiceUnavailableException } = jest.requireActual('@nestjs/common');
    expect(toApiError(new ServiceUnavailableException()).toBody().error.code).toBe('unavailable');
  });
});
