import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { type ArgumentsHost, Logger } from '@nestjs/common';
import { DomainError } from '@trigrun/util';
import { ApiError } from './api-error';
import { ErrorEnvelopeFilter, type DependencyProbe, discardBody, toApiError } from './error.filter';

/** A request body still arriving: a stream written to by the test, standing in for IncomingMessage. */
const arriving = () => new PassThrough() as PassThrough & IncomingMessage;
const settled = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('discardBody: a refused body is read to its end before the 413 goes out', () => {
  it('waits for the rest of the body, throwing it away', async () => {
    const body = arriving();
    const discarded = discardBody(body, 1024, 10_000);
    body.write(Buffer.alloc(300));
    expect(await settled(discarded)).toBe(false);
    body.end(Buffer.alloc(300));
    await expect(discarded).resolves.toBeUndefined();
  });

  it('stops waiting once more than the cap has arrived, or when the time is up', async () => {
    const endless = arriving();
    const capped = discardBody(endless, 1024, 10_000);
    endless.write(Buffer.alloc(1000));
    expect(await settled(capped)).toBe(false);
    endless.write(Buffer.alloc(100));
    await expect(capped).resolves.toBeUndefined();

    const slow = arriving();
    jest.useFakeTimers();
    try {
      const timed = discardBody(slow, 1024, 5_000);
      jest.advanceTimersByTime(5_000);
      await expect(timed).resolves.toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });

  it('does not wait for a body that already ended or a connection that is gone', async () => {
    await expect(discardBody({ complete: true } as IncomingMessage)).resolves.toBeUndefined();
    const gone = arriving();
    gone.destroy();
    await expect(discardBody(gone)).resolves.toBeUndefined();
  });
});

describe('ErrorEnvelopeFilter: an error nobody classified', () => {
  /** Runs the filter on `error` and resolves with the status and body it sent. */
  const answer = (error: unknown, probe?: DependencyProbe) =>
    new Promise<{ status: number; body: { error: { code: string; details?: Record<string, unknown> } } }>((resolve) => {
      let status = 0;
      const reply = {
        status: (s: number) => ((status = s), reply),
        headers: () => reply,
        header: () => reply,
        send: (body: never) => resolve({ status, body }),
      };
      const raw = { complete: true };
      const host = { switchToHttp: () => ({ getResponse: () => reply, getRequest: () => ({ raw }) }) } as unknown as ArgumentsHost;
      new ErrorEnvelopeFilter(probe).catch(error, host);
    });
  // A knex message that carries no code: nothing in outage.ts recognises it.
  const unexplained = new Error('Transaction query already complete, run with DEBUG=knex:tx for more info');

  it('is answered 503 unavailable, naming the dependency, when a dependency is down at that moment', async () => {
    const { status, body } = await answer(unexplained, async () => ({ checks: { nats: 'up', postgres: 'down', redis: 'up' } }));
    expect(status).toBe(503);
    expect(body.error.code).toBe('unavailable');
    expect(body.error.details).toMatchObject({ dependency: 'postgres' });
  });

  it('is a 500 when every dependency is up, when the probe fails, and when there is no probe', async () => {
    expect((await answer(unexplained, async () => ({ checks: { nats: 'up', postgres: 'up', redis: 'up' } }))).status).toBe(500);
    expect((await answer(unexplained, async () => Promise.reject(new Error('probe broke')))).status).toBe(500);
    expect((await answer(unexplained)).status).toBe(500);
  });

  it('logs a dependency outage it classified, but not an unavailable refusal a service threw on purpose', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const refused = await answer(DomainError.unavailable('The role is changed in the database, but the cache could not be cleared', 1));
      expect([refused.status, refused.body.error.code]).toEqual([503, 'unavailable']);
      expect(warn).not.toHaveBeenCalled();
      expect((await answer(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).status).toBe(503);
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });

  it('does not probe for errors it can classify', async () => {
    const probe = jest.fn(async () => ({ checks: { postgres: 'down' as const } }));
    expect((await answer(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), probe)).status).toBe(503);
    expect(probe).not.toHaveBeenCalled();
  });
});

describe('toApiError: a DomainError keeps its code, message and details; the edge adds status and Retry-After', () => {
  it('maps each code to its status', () => {
    const cases: Array<[DomainError, number]> = [
      [DomainError.validation([{ field: 'name', message: 'is required' }]), 400],
      [DomainError.notFound('Job'), 404],
      [DomainError.forbidden(), 403],
      [DomainError.conflict('taken'), 409],
      [new DomainError('quota_exceeded', 'too many jobs'), 403],
    ];
    for (const [error, status] of cases) {
      const api = toApiError(error);
      expect([api.status, api.code, api.message]).toEqual([status, error.code, error.message]);
    }
    expect(toApiError(DomainError.validation([{ field: 'name', message: 'is required' }])).toBody().error.details).toEqual({ fields: [{ field: 'name', message: 'is required' }] });
  });

  it('answers each factory exactly as the ApiError it replaces: status, headers and body', () => {
    const answer = (error: ApiError) => ({ status: error.status, headers: error.headers, body: JSON.stringify(error.toBody()) });
    const pairs: Array<[DomainError, ApiError]> = [
      [DomainError.validation([{ field: 'value', message: 'is too short' }]), ApiError.validation([{ field: 'value', message: 'is too short' }])],
      [DomainError.validation([{ field: 'body', message: 'is empty' }], 'Nothing sent'), ApiError.validation([{ field: 'body', message: 'is empty' }], 'Nothing sent')],
      [DomainError.notFound('API token'), ApiError.notFound('API token')],
      [DomainError.forbidden(), ApiError.forbidden()],
      [DomainError.forbidden('Only owners manage members'), ApiError.forbidden('Only owners manage members')],
      [DomainError.unauthorized(), ApiError.unauthorized()],
      [DomainError.unauthorized('Send one Authorization header'), ApiError.unauthorized('Send one Authorization header')],
      [DomainError.conflict('taken'), ApiError.conflict('taken')],
      [DomainError.conflict('taken', { field: 'email' }), ApiError.conflict('taken', { field: 'email' })],
      [DomainError.unavailable('The token is revoked in the database, but…', 1), ApiError.unavailable('The token is revoked in the database, but…', 1)],
      [DomainError.unavailable('down', 5, { dependency: 'nats', retry_after_seconds: 5 }), ApiError.unavailable('down', 5, { dependency: 'nats', retry_after_seconds: 5 })],
      [new DomainError('rate_limited', 'Too many', { limit: 'token' }, 37), new ApiError('rate_limited', 'Too many', { limit: 'token' }, { 'retry-after': '37' })],
    ];
    for (const [domain, api] of pairs) expect(answer(toApiError(domain))).toEqual(answer(api));
  });

  it('sends Retry-After for a refusal that says when to repeat it', () => {
    const api = toApiError(DomainError.unavailable('The message broker is unavailable', 5, { dependency: 'nats' }));
    expect([api.status, api.headers['retry-after'], api.details]).toEqual([503, '5', { dependency: 'nats' }]);
  });
});
