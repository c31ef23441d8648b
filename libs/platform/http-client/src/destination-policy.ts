import { type AddressCategory, classifyParsed } from './address-classification';
import type { Allowlist } from './allowlist';
import { parseIp } from './ip-address';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export type DestinationVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly message: string; readonly address?: string; readonly category?: AddressCategory };

/**
 * Decides whether one hop may connect. `host` is the URL host without brackets (a name or an IP
 * literal); `addresses` are what it resolved to, and are exactly what the socket will be allowed
 * to connect to.
 *
 * If a name resolves to several addresses we refuse when ANY of them is disallowed, rather than
 * connecting only to the good ones: a name that mixes public and internal answers is the usual
 * shape of a rebinding or split-horizon trick, and refusing it outright keeps the outcome
 * independent of which address the socket would have tried first.
 */
export function checkDestination(host: string, addresses: readonly ResolvedAddress[], allowlist: Allowlist): DestinationVerdict {
  if (addresses.length === 0) return { allowed: false, message: `${host} resolved to no address` };
  const isLiteral = parseIp(host) !== undefined;
  // A host-name entry vouches for the name, whatever it resolves to: that is how operators admit
  // internal services whose addresses they do not want to pin in configuration.
  if (!isLiteral && allowlist.admitsHost(host)) return { allowed: true };

  for (const { address } of addresses) {
    const ip = parseIp(address);
    if (ip === undefined) return { allowed: false, message: `${host} resolved to "${address}", which is not an IP address`, address };
    const category = classifyParsed(ip);
    if (category === 'public' || allowlist.admitsAddress(address)) continue;
    const via = isLiteral ? '' : ` (${host} resolves to it)`;
    return {
      allowed: false,
      message:
        `destination ${address} is ${category.replace('_', '-')}${via}; ` +
        'only public addresses may be reached unless the outbound allow-list admits it',
      address,
      category,
    };
  }
  return { allowed: true };
}
