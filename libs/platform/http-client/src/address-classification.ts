import { type Cidr, cidrContains, type ParsedIp, parseCidr, parseIp } from './ip-address';

export type AddressCategory =
  | 'public'
  | 'private'
  | 'loopback'
  | 'link_local'
  | 'cgnat'
  | 'multicast'
  | 'reserved'
  | 'unspecified';

type Rule = { readonly cidr: Cidr; readonly category: AddressCategory } | { readonly cidr: Cidr; readonly embeddedV4Shift: bigint };

const rule = (cidr: string, category: AddressCategory): Rule => ({ cidr: mustParseCidr(cidr), category });
/** The address carries an IPv4 address at bit offset `shift`; whatever it reaches is decided by that v4 address. */
const embedsV4 = (cidr: string, shift: bigint): Rule => ({ cidr: mustParseCidr(cidr), embeddedV4Shift: shift });

// First match wins, so narrower ranges come before the ranges that contain them.
const IPV4_RULES: readonly Rule[] = [
  rule('0.0.0.0/32', 'unspecified'),
  rule('0.0.0.0/8', 'reserved'), // "this network"; Linux connects 0.x to the local host
  rule('10.0.0.0/8', 'private'),
  rule('100.64.0.0/10', 'cgnat'),
  rule('127.0.0.0/8', 'loopback'),
  rule('169.254.0.0/16', 'link_local'), // cloud metadata endpoints live here
  rule('172.16.0.0/12', 'private'),
  rule('192.0.0.0/24', 'reserved'), // IETF protocol assignments
  rule('192.0.2.0/24', 'reserved'), // TEST-NET-1
  rule('192.88.99.0/24', 'reserved'), // deprecated 6to4 relay anycast
  rule('192.168.0.0/16', 'private'),
  rule('198.18.0.0/15', 'reserved'), // benchmarking
  rule('198.51.100.0/24', 'reserved'), // TEST-NET-2
  rule('203.0.113.0/24', 'reserved'), // TEST-NET-3
  rule('224.0.0.0/4', 'multicast'),
  rule('240.0.0.0/4', 'reserved'), // includes 255.255.255.255
];

const IPV6_RULES: readonly Rule[] = [
  rule('::/128', 'unspecified'),
  rule('::1/128', 'loopback'),
  embedsV4('::ffff:0:0/96', 0n), // IPv4-mapped
  embedsV4('64:ff9b::/96', 0n), // NAT64 well-known prefix: the gateway forwards to the embedded v4 address
  rule('64:ff9b:1::/48', 'private'), // local-use NAT64
  rule('100::/64', 'reserved'), // discard-only
  rule('2001:db8::/32', 'reserved'), // documentation
  rule('2001::/23', 'reserved'), // IETF protocol assignments, incl. Teredo whose real target is obfuscated
  embedsV4('2002::/16', 80n), // 6to4
  rule('3fff::/20', 'reserved'), // documentation (RFC 9637)
  rule('5f00::/16', 'reserved'), // SRv6 SIDs
  rule('fc00::/7', 'private'), // unique local
  rule('fe80::/10', 'link_local'),
  rule('fec0::/10', 'private'), // deprecated site-local, still private in practice
  rule('ff00::/8', 'multicast'),
];

// Only 2000::/3 is allocated for global unicast; anything else that no rule named is unassigned space.
const IPV6_GLOBAL_UNICAST = mustParseCidr('2000::/3');

/**
 * Which kind of destination an IP address is. Only `public` may be reached without the allow-list.
 * Throws a TypeError for text that is not an IP address: callers classify resolved addresses, never names.
 */
export function classifyAddress(ip: string): AddressCategory {
  const parsed = parseIp(ip);
  if (parsed === undefined) throw new TypeError(`not an IP address: "${ip}"`);
  return classifyParsed(parsed);
}

export function classifyParsed(ip: ParsedIp): AddressCategory {
  const rules = ip.version === 4 ? IPV4_RULES : IPV6_RULES;
  for (const candidate of rules) {
    if (!cidrContains(candidate.cidr, ip)) continue;
    if ('category' in candidate) return candidate.category;
    return classifyParsed({ version: 4, value: (ip.value >> candidate.embeddedV4Shift) & 0xffffffffn });
  }
  if (ip.version === 6 && !cidrContains(IPV6_GLOBAL_UNICAST, ip)) return 'reserved';
  return 'public';
}

function mustParseCidr(text: string): Cidr {
  const cidr = parseCidr(text);
  if (cidr === undefined) throw new Error(`bad built-in CIDR ${text}`);
  return cidr;
}
