import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';

/**
 * The address a request came from, for per-address limits. `X-Forwarded-For` is written by
 * whoever sends the request, so it is believed only as far as `trustedHops` proxies of our own
 * appended to it: with 0 (a gateway that clients reach directly, as in local mode) it is
 * ignored; behind one ingress, 1 takes the address that ingress saw. The server's own
 * `trustProxy: true` believes the left-most entry, which any client can set, so it is not used
 * here.
 */
export function clientAddress(req: Pick<FastifyRequest, 'headers' | 'raw'>, trustedHops: number): string {
  const peer = req.raw.socket?.remoteAddress ?? 'unknown';
  if (trustedHops <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const chain = [...forwarded, peer];
  const candidate = chain[Math.max(0, chain.length - 1 - trustedHops)];
  return isIP(candidate) ? candidate : peer;
}
