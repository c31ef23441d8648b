import { BlockList, SocketAddress, isIP } from 'node:net';

/**
 * The proxies whose `X-Forwarded-For` is believed, parsed once (at boot) by
 * {@link parseTrustedProxies}. `node:net`'s BlockList is pure address arithmetic (no socket), and
 * matches IPv4-mapped IPv6 (`::ffff:10.1.2.3`) against IPv4 ranges and the other way round.
 */
export interface TrustedProxies {
  readonly entries: readonly string[];
  trusts(address: string): boolean;
}

export type ParsedTrustedProxies = { readonly ok: true; readonly proxies: TrustedProxies } | { readonly ok: false; readonly invalid: readonly string[] };

/**
 * CIDRs (`10.0.0.0/8`, `fd00::/8`, `::ffff:10.0.0.0/104`) and single addresses (`127.0.0.1`,
 * `::1`). Blank entries are skipped; any other entry that is neither is returned in `invalid`, so
 * the config schema can fail at boot naming it (a typo would otherwise silently trust nothing, or
 * the wrong thing).
 */
export function parseTrustedProxies(entries: readonly string[]): ParsedTrustedProxies {
  const list = new BlockList();
  const kept: string[] = [];
  const invalid: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    const slash = entry.indexOf('/');
    // Kept as written (not unmapped): `::ffff:10.0.0.0/104` is an IPv6 range, and BlockList matches it against `10.1.2.3` too.
    const address = canonicalAddress(slash === -1 ? entry : entry.slice(0, slash), { unmap: false });
    const prefixText = slash === -1 ? undefined : entry.slice(slash + 1);
    if (address === undefined || entry.includes('%') || (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))) {
      invalid.push(entry);
      continue;
    }
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    const prefix = prefixText === undefined ? undefined : Number(prefixText);
    if (prefix !== undefined && prefix > (family === 'ipv4' ? 32 : 128)) {
      invalid.push(entry);
      continue;
    }
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, prefix, family);
    kept.push(entry.toLowerCase());
  }
  if (invalid.length > 0) return { ok: false, invalid };
  return {
    ok: true,
    proxies: {
      entries: kept,
      trusts: (address) => {
        const canonical = canonicalAddress(address);
        return canonical !== undefined && list.check(canonical, isIP(canonical) === 4 ? 'ipv4' : 'ipv6');
      },
    },
  };
}

/**
 * The client's address for `trigger_input.source_ip`:
 *
 * - the direct peer (`remoteAddress`) when it is not a trusted proxy: its `X-Forwarded-For` is
 *   whatever the client wrote, so it is ignored;
 * - otherwise `X-Forwarded-For` is read right to left (each proxy appends the address it saw):
 *   trusted hops are passed over, and the first address that is not trusted is the client;
 * - when every hop is trusted, the leftmost address;
 * - an entry that is not an address (`unknown`, `_hidden`, garbage) ends the walk, and the
 *   answer is the last address reached (a trusted proxy): what lies left of it was written by
 *   someone no trusted proxy vouched for. Empty entries (`a,,b`) are skipped.
 *
 * Entries may carry a port (`1.2.3.4:5678`, `[2001:db8::1]:443`) or brackets. The answer is
 * canonical: lower-case, compressed IPv6 without a zone; an IPv4-mapped address as plain IPv4
 * (`::ffff:1.2.3.4` → `1.2.3.4`). `null` when the peer's own address is missing or not an
 * address. `trustedProxies` as plain strings: entries that do not parse trust nothing (validate
 * them once with parseTrustedProxies instead). Never throws.
 */
export function sourceIp(
  remoteAddress: string | undefined,
  forwardedFor: string | readonly string[] | undefined,
  trustedProxies: TrustedProxies | readonly string[],
): string | null {
  const peer = remoteAddress === undefined ? undefined : canonicalAddress(remoteAddress);
  if (peer === undefined) return null;
  const trusted = isTrustedProxies(trustedProxies) ? trustedProxies : trustedIgnoringInvalid(trustedProxies);
  if (forwardedFor === undefined || !trusted.trusts(peer)) return peer;
  const hops = (typeof forwardedFor === 'string' ? forwardedFor : forwardedFor.join(',')).split(',');
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const entry = hops[i].trim();
    if (entry === '') continue;
    const hop = forwardedAddress(entry);
    if (hop === undefined) return client;
    client = hop;
    if (!trusted.trusts(hop)) return hop;
  }
  return client;
}

function isTrustedProxies(value: TrustedProxies | readonly string[]): value is TrustedProxies {
  return !Array.isArray(value);
}

function trustedIgnoringInvalid(entries: readonly string[]): TrustedProxies {
  const valid = entries.filter((entry) => parseTrustedProxies([entry]).ok);
  const parsed = parseTrustedProxies(valid);
  return parsed.ok ? parsed.proxies : { entries: [], trusts: () => false };
}

/** `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:443` → the canonical address. */
function forwardedAddress(entry: string): string | undefined {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    const rest = entry.slice(close + 1);
    if (close === -1 || !(rest === '' || /^:\d{1,5}$/.test(rest))) return undefined;
    return canonicalAddress(entry.slice(1, close), { only: 6 });
  }
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(entry);
  return canonicalAddress(v4WithPort === null ? entry : v4WithPort[1]);
}

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/;

/** The canonical form of an address, or undefined when `text` is not one (a zone id is dropped: it names an interface, not a host). */
function canonicalAddress(text: string, { only, unmap = true }: { only?: 4 | 6; unmap?: boolean } = {}): string | undefined {
  // The longest IPv6 text (with an embedded IPv4 and a zone) is well under 100 characters.
  if (text.length > 100) return undefined;
  const zone = text.indexOf('%');
  const bare = zone === -1 ? text : text.slice(0, zone);
  const version = isIP(bare);
  if (version === 0 || (only !== undefined && version !== only)) return undefined;
  if (version === 4) return bare;
  const canonical = new SocketAddress({ address: bare, family: 'ipv6' }).address;
  const mapped = unmap ? MAPPED_IPV4.exec(canonical) : null;
  return mapped === null ? canonical : mapped[1];
}
