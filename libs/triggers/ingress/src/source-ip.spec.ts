import { parseTrustedProxies, sourceIp } from './source-ip';

const trusted = (() => {
  const parsed = parseTrustedProxies(['10.0.0.0/8', '192.168.1.1', 'fd00::/8', '::1', ' ']);
  if (!parsed.ok) throw new Error(`invalid ${parsed.invalid.join()}`);
  return parsed.proxies;
})();

describe('sourceIp', () => {
  it.each<[string, string | undefined, string | undefined, string | null]>([
    ['no proxy: the peer', '203.0.113.7', undefined, '203.0.113.7'],
    ['an untrusted peer’s X-Forwarded-For is ignored (spoofing)', '203.0.113.7', '1.1.1.1', '203.0.113.7'],
    ['an untrusted peer claiming to be a trusted proxy', '203.0.113.7', '1.1.1.1, 10.0.0.1', '203.0.113.7'],
    ['a trusted peer: the hop it saw', '10.0.0.1', '198.51.100.2', '198.51.100.2'],
    ['walks right to left over trusted hops', '10.0.0.1', '198.51.100.2, 10.0.0.2, 192.168.1.1', '198.51.100.2'],
    ['takes the first untrusted hop, not the leftmost (a spoofed prefix)', '10.0.0.1', '6.6.6.6, 198.51.100.2, 10.0.0.2', '198.51.100.2'],
    ['every hop trusted: the leftmost', '10.0.0.1', '10.9.9.9, 10.0.0.2', '10.9.9.9'],
    ['a trusted peer without the header: the peer', '10.0.0.1', undefined, '10.0.0.1'],
    ['an empty header: the peer', '10.0.0.1', '', '10.0.0.1'],
    ['empty entries are skipped', '10.0.0.1', '198.51.100.2,, ,10.0.0.2,', '198.51.100.2'],
    ['garbage ends the walk at the last trusted hop', '10.0.0.1', '6.6.6.6, unknown, 10.0.0.2', '10.0.0.2'],
    ['garbage right away: the trusted peer', '10.0.0.1', 'not-an-ip', '10.0.0.1'],
    ['an address with leading zeros is garbage', '10.0.0.1', '6.6.6.6, 010.0.0.1', '10.0.0.1'],
    ['a huge garbage entry', '10.0.0.1', 'x'.repeat(100_000), '10.0.0.1'],
    ['IPv4 with a port', '10.0.0.1', '198.51.100.2:5678', '198.51.100.2'],
    ['IPv6 in brackets with a port', '10.0.0.1', '[2001:DB8::1]:443', '2001:db8::1'],
    ['IPv6 in brackets', '10.0.0.1', '[2001:db8::1]', '2001:db8::1'],
    ['bad brackets are garbage', '10.0.0.1', '[2001:db8::1', '10.0.0.1'],
    ['IPv4 in brackets is garbage', '10.0.0.1', '[198.51.100.2]', '10.0.0.1'],
    ['IPv6 peer and hops', 'fd00::5', '2001:db8:0:0::1, fd12::1', '2001:db8::1'],
    ['an untrusted IPv6 peer', '2001:db8::9', '198.51.100.2', '2001:db8::9'],
    ['IPv6 canonical form', '2001:DB8:0000:0000:0000:0000:0000:0001', undefined, '2001:db8::1'],
    ['a zone id is dropped', 'fe80::1%eth0', undefined, 'fe80::1'],
    ['loopback ::1 is trusted', '::1', '198.51.100.2', '198.51.100.2'],
    ['an IPv4-mapped peer is matched against IPv4 ranges', '::ffff:10.0.0.1', '198.51.100.2', '198.51.100.2'],
    ['an IPv4-mapped peer is answered as IPv4', '::ffff:203.0.113.7', undefined, '203.0.113.7'],
    ['an IPv4-mapped peer in hex', '::ffff:cb00:7107', undefined, '203.0.113.7'],
    ['an IPv4-mapped hop is trusted by IPv4 ranges', '10.0.0.1', '198.51.100.2, ::ffff:10.0.0.2', '198.51.100.2'],
    ['an IPv4-mapped hop is answered as IPv4', '10.0.0.1', '::ffff:198.51.100.2', '198.51.100.2'],
    ['no peer address', undefined, '198.51.100.2', null],
    ['a peer address that is not one', 'garbage', '198.51.100.2', null],
  ])('%s', (_name, remote, forwardedFor, expected) => {
    expect(sourceIp(remote, forwardedFor, trusted)).toBe(expected);
  });

  it('several X-Forwarded-For headers read as one list', () => {
    expect(sourceIp('10.0.0.1', ['6.6.6.6', '198.51.100.2, 10.0.0.2'], trusted)).toBe('198.51.100.2');
  });

  it('trusts nobody without trusted proxies', () => {
    expect(sourceIp('10.0.0.1', '198.51.100.2', [])).toBe('10.0.0.1');
  });

  it('takes the list as strings, an invalid entry trusting nothing', () => {
    expect(sourceIp('10.0.0.1', '198.51.100.2', ['10.0.0.0/8'])).toBe('198.51.100.2');
    expect(sourceIp('10.0.0.1', '198.51.100.2', ['10.0.0.0/99', 'nonsense'])).toBe('10.0.0.1');
  });

  it('a mapped IPv6 range trusts the IPv4 addresses in it', () => {
    const parsed = parseTrustedProxies(['::ffff:10.0.0.0/104']);
    expect(parsed.ok && parsed.proxies.trusts('10.1.2.3')).toBe(true);
    expect(parsed.ok && parsed.proxies.trusts('11.1.2.3')).toBe(false);
    expect(sourceIp('10.1.2.3', '198.51.100.2', ['::ffff:10.0.0.0/104'])).toBe('198.51.100.2');
  });
});

describe('parseTrustedProxies', () => {
  it('names every entry that is not an address or a CIDR', () => {
    expect(parseTrustedProxies(['10.0.0.0/8', '10.0.0.0/33', 'fd00::/129', 'proxy.internal', '1.2.3.4/x', '1.2.3.4/', 'fe80::1%eth0', '10.0.0.0/8/8'])).toEqual({
      ok: false,
      invalid: ['10.0.0.0/33', 'fd00::/129', 'proxy.internal', '1.2.3.4/x', '1.2.3.4/', 'fe80::1%eth0', '10.0.0.0/8/8'],
    });
  });

  it.each([
    ['10.0.0.0/8', '10.255.0.1', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['10.1.2.3/8', '10.9.9.9', true],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['192.168.1.1', '192.168.1.1', true],
    ['192.168.1.1', '192.168.1.2', false],
    ['fd00::/8', 'fdff::1', true],
    ['fd00::/8', 'fe00::1', false],
    ['::1', '0:0:0:0:0:0:0:1', true],
    ['10.0.0.0/8', '::ffff:10.0.0.1', true],
    ['10.0.0.0/8', 'garbage', false],
  ])('%s trusts %s: %s', (entry, address, expected) => {
    const parsed = parseTrustedProxies([entry]);
    expect(parsed.ok && parsed.proxies.trusts(address)).toBe(expected);
  });
});
