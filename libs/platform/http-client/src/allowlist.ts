import { domainToASCII } from 'node:url';
import { type Cidr, cidrContains, cidrOf, parseCidr, parseIp, unmapIpv4, unmapIpv4Cidr } from './ip-address';

/**
 * The operator's exceptions to the public-only rule (self-hosted targets, tests).
 * Built once at boot by {@link parseAllowlist}; immutable afterwards.
 */
export interface Allowlist {
  /** Normalised entries, for logging what was configured. */
  readonly entries: readonly string[];
  admitsAddress(ip: string): boolean;
  /** `hostname` as it appears in a URL (WHATWG-normalised: lower case, punycode, no brackets). */
  admitsHost(hostname: string): boolean;
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * Parses the comma-separated allow-list setting: CIDRs (`10.0.0.0/8`, `fd00::/8`), single IPs
 * (`10.1.2.3`, `::1`), exact host names (`localhost`, `api.internal`) and suffix wildcards
 * (`*.corp.example`, which matches `a.corp.example` and `a.b.corp.example` but not `corp.example`).
 * Blank entries are skipped so a trailing comma is harmless; any other unparsable entry throws,
 * naming it, because a typo here would silently leave a target blocked (or, worse, admit another).
 */
export function parseAllowlist(text: string | undefined): Allowlist {
  const cidrs: Cidr[] = [];
  const exactHosts = new Set<string>();
  const hostSuffixes: string[] = [];
  const entries: string[] = [];

  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const ip = parseIp(entry);
    const cidr = ip !== undefined && !entry.includes('%') ? cidrOf(ip) : parseCidr(entry);
    if (cidr !== undefined) {
      cidrs.push(unmapIpv4Cidr(cidr));
      entries.push(entry.toLowerCase());
      continue;
    }
    const wildcard = entry.startsWith('*.');
    const host = normaliseHostName(wildcard ? entry.slice(2) : entry);
    if (host === undefined) {
      throw new Error(
        `invalid outbound allow-list entry "${entry}": expected a CIDR (10.0.0.0/8, fd00::/8), ` +
          `an IP address (10.1.2.3, ::1) or a host name (api.internal, *.corp.example)`,
      );
    }
    if (wildcard) hostSuffixes.push(`.${host}`);
    else exactHosts.add(host);
    entries.push(wildcard ? `*.${host}` : host);
  }

  return {
    entries,
    admitsAddress(address: string): boolean {
      const parsed = parseIp(address);
      if (parsed === undefined) return false;
      const ip = unmapIpv4(parsed);
      return cidrs.some((cidr) => cidrContains(cidr, ip));
    },
    admitsHost(hostname: string): boolean {
      const host = normaliseHostName(hostname);
      if (host === undefined) return false;
      return exactHosts.has(host) || hostSuffixes.some((suffix) => host.endsWith(suffix));
    },
  };
}

/**
 * Lower case, punycode, no trailing dot, so `Example.COM.` and `example.com` are one name.
 * Returns undefined for anything that is not a DNS name, including a numeric last label:
 * a URL parser reads `127.1` as an IPv4 address, so such an entry could never match a host name.
 */
function normaliseHostName(text: string): string | undefined {
  const withoutDot = text.endsWith('.') ? text.slice(0, -1) : text;
  // domainToASCII parses a URL host and would quietly cut `example.com/path` down to `example.com`.
  if (withoutDot === '' || withoutDot.length > 253 || /[\s/?#\\:@%*[\]]/.test(withoutDot)) return undefined;
  const ascii = domainToASCII(withoutDot);
  if (ascii === '') return undefined;
  const labels = ascii.split('.');
  if (!labels.every((label) => LABEL.test(label))) return undefined;
  if (/^\d+$/.test(labels[labels.length - 1]) || /^0x[0-9a-f]*$/.test(labels[labels.length - 1])) return undefined;
  return ascii;
}
