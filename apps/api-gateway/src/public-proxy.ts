import { request as httpRequest } from 'node:http';
import { Logger } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { ApiError, sendError, toApiError } from '@trigrun/nest';
import { clientAddress } from '@trigrun/rate-limits';

/** The public token endpoints that trigger-ingest serves (resume and approvals: docs/workflows.md; webhook triggers and monitor pings are not built yet). */
export const PUBLIC_PREFIXES = ['/v1/triggers', '/v1/resume', '/v1/approvals', '/v1/ping'];

/**
 * A token segment: RFC 3986 unreserved characters only, not starting with a dot. Park tokens
 * (`<execution_id>.<base64url>`) and every token the platform issues fit; nothing that could be
 * a dot segment, an escape (`%2e`, `%2f`, `%5c`, `%00`), a backslash, a `;` parameter or an
 * empty segment does.
 */
const TOKEN = '[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,511}';
const PUBLIC_PATHS = [new RegExp(`^/v1/(?:triggers|resume|ping)/${TOKEN}$`), new RegExp(`^/v1/approvals/${TOKEN}(?:/approve|/reject)?$`)];
/** Printable ASCII but `#`: the query is passed on as it came, and is never resolved as a path. */
const QUERY = /^[\x21\x22\x24-\x7e]*$/;

/**
 * The path and query to send upstream when `rawUrl` (the request target as the client sent it)
 * is exactly one of the public route shapes, else null. Nothing is decoded or normalised:
 * what is not already in its one plain spelling is refused, so there is no second reading of
 * the path for trigger-ingest (or a URL parser on the way) to disagree with.
 */
export function publicTarget(rawUrl: string): string | null {
  const at = rawUrl.indexOf('?');
  const path = at === -1 ? rawUrl : rawUrl.slice(0, at);
  const query = at === -1 ? '' : rawUrl.slice(at + 1);
  if (!PUBLIC_PATHS.some((shape) => shape.test(path)) || !QUERY.test(query)) return null;
  return at === -1 ? path : `${path}?${query}`;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

/**
 * Local mode only: one base URL answers everything, so the gateway forwards the public paths to
 * trigger-ingest byte for byte — and only those: trigger-ingest's own pages (`/metrics`,
 * `/readyz`) must not be reachable through the public base URL by any spelling of a path that
 * climbs out of a public prefix. In Kubernetes the Ingress splits the traffic instead and this
 * is not registered.
 */
export async function registerPublicProxy(fastify: FastifyInstance, target: string, trustedProxyHops = 0): Promise<void> {
  const upstreamUrl = new URL(target);
  const basePath = upstreamUrl.pathname.replace(/\/+$/, '');
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
    // Checked before the body is read: a refused path costs no upload.
    scope.addHook('onRequest', async (req) => {
      if (publicTarget(req.raw.url ?? '') === null) throw ApiError.notFound('Route');
    });
    for (const prefix of PUBLIC_PREFIXES) {
      scope.all(`${prefix}/*`, (req, reply) => {
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !HOP_BY_HOP.has(k)));
        headers['x-forwarded-for'] = clientAddress(req, trustedProxyHops);
        // The path goes to the request as given (no URL string, which would resolve `..`).
        const path = `${basePath}${publicTarget(req.raw.url ?? '')!}`;
        return new Promise<void>((resolve) => {
          const upstream = httpRequest(
            { protocol: 'http:', hostname: upstreamUrl.hostname, port: upstreamUrl.port || 80, path, method: req.method, headers },
            (res) => {
              const out = Object.fromEntries(Object.entries(res.headers).filter(([k]) => !HOP_BY_HOP.has(k)));
              void reply.status(res.statusCode ?? 502).headers(out).send(res);
              res.on('end', resolve).on('error', resolve);
            },
          );
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
