import { isIP } from 'node:net';

/**
 * IP addresses as unsigned integers (32 or 128 bits), so that range checks are plain arithmetic
 * and do not depend on how an address happens to be written (`::ffff:7f00:1` vs `::ffff:127.0.0.1`).
 */
export interface ParsedIp {
  readonly version: 4 | 6;
  readonly value: bigint;
}

export interface Cidr {
  readonly version: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
}

const WIDTH = { 4: 32, 6: 128 } as const;

/** `undefined` when the text is not an IP address. Zone ids (`fe80::1%eth0`) are ignored: they pick an interface, not an address. */
export function parseIp(text: string): ParsedIp | undefined {
  const zone = text.indexOf('%');
  const bare = zone === -1 ? text : text.slice(0, zone);
  switch (isIP(bare)) {
    case 4:
      return { version: 4, value: ipv4ToBigInt(bare) };
    case 6:
      return { version: 6, value: ipv6ToBigInt(bare) };
    default:
      return undefined;
  }
}

/** `a.b.c.d/n` or `x::/n`; host bits are masked off, so `10.1.2.3/8` means `10.0.0.0/8`. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash === -1) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (ip === undefined || text.includes('%') || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > WIDTH[ip.version]) return undefined;
  return { version: ip.version, network: mask(ip.value, ip.version, prefix), prefix };
}

export function cidrOf(ip: ParsedIp): Cidr {
  return { version: ip.version, network: ip.value, prefix: WIDTH[ip.version] };
}

export function cidrContains(cidr: Cidr, ip: ParsedIp): boolean {
  return cidr.version === ip.version && mask(ip.value, ip.version, cidr.prefix) === cidr.network;
}

/**
 * `::ffff:a.b.c.d` is the same host as `a.b.c.d` (a dual-stack socket connects to the v4 address), so
 * every policy decision is taken on the embedded v4 address. Other addresses are returned unchanged.
 */
export function unmapIpv4(ip: ParsedIp): ParsedIp {
  if (ip.version === 6 && ip.value >> 32n === 0xffffn) return { version: 4, value: ip.value & 0xffffffffn };
  return ip;
}

/** Same for CIDRs lying entirely inside `::ffff:0:0/96`, so an allow-list entry written either way matches both spellings. */
export function unmapIpv4Cidr(cidr: Cidr): Cidr {
  if (cidr.version === 6 && cidr.prefix >= 96 && cidr.network >> 32n === 0xffffn) {
    return { version: 4, network: cidr.network & 0xffffffffn, prefix: cidr.prefix - 96 };
  }
  return cidr;
}

function mask(value: bigint, version: 4 | 6, prefix: number): bigint {
  const hostBits = BigInt(WIDTH[version] - prefix);
  return (value >> hostBits) << hostBits;
}

function ipv4ToBigInt(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

// Only called on text that net.isIP accepted, so the shape is already known to be valid.
function ipv6ToBigInt(text: string): bigint {
  const toGroups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [parseInt(group, 16)];
          const v4 = Number(ipv4ToBigInt(group));
          return [v4 >>> 16, v4 & 0xffff];
        });
  const gap = text.indexOf('::');
  const groups =
    gap === -1
      ? toGroups(text)
      : (() => {
          const left = toGroups(text.slice(0, gap));
          const right = toGroups(text.slice(gap + 2));
          return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
        })();
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n);
}
