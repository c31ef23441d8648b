import type { FastifyRequest } from 'fastify';
import { clientAddress } from './client-address';

const request = (peer: string, forwardedFor?: string | string[]) =>
  ({ headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }, raw: { socket: { remoteAddress: peer } } }) as unknown as Pick<FastifyRequest, 'headers' | 'raw'>;

describe('clientAddress', () => {
  it('is the peer when no proxy is trusted, whatever X-Forwarded-For claims', () => {
    expect(clientAddress(request('203.0.113.9'), 0)).toBe('203.0.113.9');
    expect(clientAddress(request('203.0.113.9', '198.51.100.1'), 0)).toBe('203.0.113.9');
  });

  it('behind one trusted proxy, is the address that proxy appended, not one the client wrote before it', () => {
    expect(clientAddress(request('10.0.0.2', '198.51.100.7'), 1)).toBe('198.51.100.7');
    expect(clientAddress(request('10.0.0.2', '1.2.3.4, 5.6.7.8, 198.51.100.7'), 1)).toBe('198.51.100.7');
    expect(clientAddress(request('10.0.0.2', ['1.2.3.4', '198.51.100.7']), 1)).toBe('198.51.100.7');
  });

  it('counts hops from the right', () => {
    expect(clientAddress(request('10.0.0.2', '1.2.3.4, 198.51.100.7, 10.0.0.9'), 2)).toBe('198.51.100.7');
  });

  it('falls back to the peer when the chosen entry is not an address or the chain is short', () => {
    expect(clientAddress(request('10.0.0.2', 'evil, <script>'), 1)).toBe('10.0.0.2');
    expect(clientAddress(request('10.0.0.2'), 1)).toBe('10.0.0.2');
    expect(clientAddress(request('10.0.0.2', '2001:db8::1'), 1)).toBe('2001:db8::1');
  });
});
