import { request as httpRequest } from 'node:http';
import { Logger } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { sendError, toApiError } from '@trigrun/nest';

/** The public token endpoints that trigger-ingest serves (SPEC §6, §7, §11). */
export const PUBLIC_PREFIXES = ['/v1/triggers', '/v1/resume', '/v1/approvals', '/v1/ping'];

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

/**
 * Local mode only: one base URL answers everything, so the gateway forwards the public paths to
 * trigger-ingest byte for byte. In Kubernetes the Ingress splits the traffic instead and this
 * is not registered.
 */
export async function registerPublicProxy(fastify: FastifyInstance, target: string): Promise<void> {
  await fastify.register(async (scope) => {
    // This scope exists before Nest installs its error handler, so errors raised here (a body
    // over the limit) would otherwise leave in fastify's own shape instead of the envelope.
    scope.setErrorHandler((error, req, reply) => {
      const apiError = toApiError(error);
      if (apiError.code === 'internal') new Logger('public-proxy').error(`proxy failed: ${(error as Error).message}`, (error as Error).stack);
      sendError(reply, req.raw, apiError);
    });
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    for (const prefix of PUBLIC_PREFIXES) {
      scope.all(`${prefix}/*`, (req, reply) => {
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !HOP_BY_HOP.has(k)));
        headers['x-forwarded-for'] = req.ip;
        return new Promise<void>((resolve) => {
          const upstream = httpRequest(`${target}${req.url}`, { method: req.method, headers }, (res) => {
            const out = Object.fromEntries(Object.entries(res.headers).filter(([k]) => !HOP_BY_HOP.has(k)));
            void reply.status(res.statusCode ?? 502).headers(out).send(res);
            res.on('end', resolve).on('error', resolve);
          });
          upstream.on('error', () => {
            void reply
              .status(502)
              .send({ error: { code: 'internal', message: 'trigger-ingest is not reachable', details: null } });
            resolve();
          });
          upstream.end(req.body as Buffer | undefined);
        });
      });
    }
  });
}
