import { parseAllowlist } from './allowlist';

describe('parseAllowlist', () => {
  it('admits nothing when unset or blank', () => {
    for (const text of [undefined, '', ' , ,']) {
      const list = parseAllowlist(text);
      expect(list.entries).toEqual([]);
      expect(list.admitsAddress('127.0.0.1')).toBe(false);
      expect(list.admitsHost('localhost')).toBe(false);
    }
  });

  describe('address entries', () => {
    const list = parseAllowlist(' 127.0.0.1/32, 10.1.0.0/16 ,192.168.5.7, fd00::/8, ::1, 172.16.99.1/12');
    it.each([
      ['127.0.0.1', true],
      ['127.0.0.2', false],
      ['10.1.255.255', true],
      ['10.2.0.0', false],
      ['192.168.5.7', true],
      ['192.168.5.8', false],
      ['fd12::1', true],
      ['fc00::1', false],
      ['::1', true],
      ['::2', false],
      ['172.31.0.1', true], // host bits of 172.16.99.1/12 are ignored
      ['172.32.0.1', false],
      ['::ffff:127.0.0.1', true], // mapped form of an admitted v4 address
      ['::ffff:127.0.0.2', false],
      ['localhost', false],
    ] as const)('%s -> %s', (ip, admitted) => {
      expect(list.admitsAddress(ip)).toBe(admitted);
    });

    it('accepts an entry written in IPv4-mapped form for the plain v4 address', () => {
      const mapped = parseAllowlist('::ffff:10.0.0.0/104');
      expect(mapped.admitsAddress('10.200.0.1')).toBe(true);
      expect(mapped.admitsAddress('11.0.0.1')).toBe(false);
    });

    it('can admit everything, which is the operator\'s call', () => {
      const all = parseAllowlist('0.0.0.0/0,::/0');
      expect(all.admitsAddress('169.254.169.254')).toBe(true);
      expect(all.admitsAddress('fe80::1')).toBe(true);
    });
  });

  describe('host name entries', () => {
    const list = parseAllowlist('localhost, API.Internal., *.corp.example, bücher.example');
    it.each([
      ['localhost', true],
      ['LOCALHOST', true],
      ['localhost.', true],
      ['api.internal', true],
      ['x.api.internal', false],
      ['a.corp.example', true],
      ['a.b.corp.example', true],
      ['corp.example', false],
      ['evilcorp.example', false],
      ['xn--bcher-kva.example', true],
      ['bücher.example', true],
      ['127.0.0.1', false],
    ] as const)('%s -> %s', (host, admitted) => {
      expect(list.admitsHost(host)).toBe(admitted);
    });

    it('reports the normalised entries', () => {
      expect(list.entries).toEqual(['localhost', 'api.internal', '*.corp.example', 'xn--bcher-kva.example']);
    });

    it('does not treat a host name entry as an address entry', () => {
      expect(list.admitsAddress('127.0.0.1')).toBe(false);
    });
  });

  it.each([
    '10.0.0.0/33',
    '10.0.0.0/',
    '10.0.0.0/8/8',
    '10.0.0.0/-1',
    '10.0.0.0/08x',
    'fd00::/129',
    '256.1.1.1',
    '10.0.0.300/24',
    '127.1',
    '0x7f.1',
    'fe80::1%eth0',
    'http://example.com',
    'example.com/path',
    'example.com:8080',
    'foo bar',
    '*',
    '*.',
    '*example.com',
    'a.*.example.com',
    '-bad.example',
    'a..b',
    '[::1]',
  ])('rejects %j, naming it', (entry) => {
    expect(() => parseAllowlist(`localhost, ${entry}`)).toThrow(`"${entry}"`);
  });
});
