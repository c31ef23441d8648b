import type { FastifyInstance } from 'fastify';
import { ApiError } from '@trigrun/nest';

/** The routes of this service that the public base URL leads to (resume and approvals: docs/workflows.md; webhook triggers and monitor pings are not built yet). */
const PUBLIC_PREFIXES = ['/v1/triggers/', '/v1/resume/', '/v1/approvals/', '/v1/ping/'];
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-host'];

/**
 * This service's port is both public (the Ingress and, in local mode, the gateway forward the
 * token routes to it) and internal (probes and Prometheus read `/healthz`, `/readyz`, `/metrics`
 * from it directly). A request that came through a proxy carries a forwarding header; such a
 * request gets a 404 anywhere but the public routes, so no spelling of a path a proxy lets
 * through reaches the internal pages. This is the second wall: the proxies allow only the public
 * route shapes in the first place.
 */
export function keepInternalEndpointsInternal(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', async (req) => {
    if (!FORWARDING_HEADERS.some((name) => req.headers[name] !== undefined)) return;
    const url = req.routeOptions.url;
    if (url !== undefined && PUBLIC_PREFIXES.some((prefix) => url.startsWith(prefix))) return;
    throw ApiError.notFound('Route');
  });
}
