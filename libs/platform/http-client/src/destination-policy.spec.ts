import { parseAllowlist } from './allowlist';
import { checkDestination, type ResolvedAddress } from './destination-policy';

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });

describe('checkDestination', () => {
  const none = parseAllowlist(undefined);

  it('lets a name through when every address is public', () => {
    expect(checkDestination('api.example.com', [v4('93.184.216.34'), v6('2606:2800:220:1::1')], none)).toEqual({ allowed: true });
  });

  it('refuses a name when any of its addresses is not public, naming that address', () => {
    const verdict = checkDestination('mixed.example.com', [v4('93.184.216.34'), v4('10.0.0.5')], none);
    expect(verdict).toMatchObject({ allowed: false, address: '10.0.0.5', category: 'private' });
    expect(!verdict.allowed && verdict.message).toContain('mixed.example.com');
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['0.0.0.0', 'unspecified'],
  ] as const)('refuses the literal %s (%s)', (host, category) => {
    expect(checkDestination(host, [{ address: host, family: host.includes(':') ? 6 : 4 }], none)).toMatchObject({
      allowed: false,
      address: host,
      category,
    });
  });

  it('admits an address the allow-list covers, and only that one', () => {
    const list = parseAllowlist('10.0.0.0/24');
    expect(checkDestination('svc.internal', [v4('10.0.0.5')], list)).toEqual({ allowed: true });
    expect(checkDestination('svc.internal', [v4('10.0.0.5'), v4('10.0.1.5')], list)).toMatchObject({ allowed: false, address: '10.0.1.5' });
  });

  it('admits any address behind an allow-listed host name', () => {
    const list = parseAllowlist('svc.internal');
    expect(checkDestination('svc.internal', [v4('10.0.0.5'), v6('fd00::5')], list)).toEqual({ allowed: true });
    expect(checkDestination('other.internal', [v4('10.0.0.5')], list)).toMatchObject({ allowed: false });
  });

  it('refuses when there is nothing to check', () => {
    expect(checkDestination('empty.example', [], none)).toMatchObject({ allowed: false });
  });

  it('refuses an answer that is not an IP address', () => {
    expect(checkDestination('odd.example', [v4('not-an-ip')], none)).toMatchObject({ allowed: false, address: 'not-an-ip' });
  });
});
