import Fastify from 'fastify';
import { ApiError } from './api-error';
import { sendError } from './error.filter';

describe('ApiError.unavailable', () => {
  it('answers 503 in the envelope with Retry-After', async () => {
    const app = Fastify();
    app.get('/', async (request, reply) => sendError(reply, request.raw, ApiError.unavailable('Try again', 1, { what: 'cache' })));
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ error: { code: 'unavailable', message: 'Try again', details: { what: 'cache' } } });
    await app.close();
  });

  it('sends no extra headers for other errors', async () => {
    const app = Fastify();
    app.get('/', async (request, reply) => sendError(reply, request.raw, ApiError.conflict('taken')));
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(409);
    expect(res.headers['retry-after']).toBeUndefined();
    await app.close();
  });
});
