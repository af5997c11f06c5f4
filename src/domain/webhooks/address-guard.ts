/**
 * The SSRF guard of webhook requests: which addresses a webhook may reach.
 * Loopback, private, link-local, CGNAT, unique-local, unspecified, multicast
 * and reserved addresses (also as IPv4-mapped IPv6) are refused unless
 * webhook_allow_private is on. Names are resolved when a request is sent and
 * the connection goes to the address that was checked (a `lookup` for
 * node:http), so a name cannot pass the check and then resolve elsewhere
 * (DNS rebinding).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const RANGES: readonly [category: string, network: string, prefix: number, family: 'ipv4' | 'ipv6'][] = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['CGNAT', '100.64.0.0', 10, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['reserved', '192.0.0.0', 24, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['reserved', '198.18.0.0', 15, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'], // includes the broadcast address
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['unique-local', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
];

const lists = new Map<string, BlockList>();
for (const [category, network, prefix, family] of RANGES) {
  let list = lists.get(category);
  if (!list) lists.set(category, (list = new BlockList()));
  list.addSubnet(network, prefix, family);
}

/** Why `address` (an IP literal) is not public, e.g. 'private' or 'loopback'; undefined for a public address. */
export function nonPublicCategory(address: string): string | undefined {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(bare);
  if (family === 0) throw new TypeError(`not an IP address: ${address}`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [category, list] of lists) {
    // BlockList matches IPv4 rules against IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) too.
    if (list.check(bare, type)) return category;
  }
  return undefined;
}

export class BlockedAddressError extends Error {
  readonly code = 'EWEBHOOKBLOCKED';
}

/**
 * A `lookup` for node:http that resolves like the default one and refuses
 * names that resolve to a non-public address (unless allowed); the socket
 * connects to the address returned here, the one that was checked.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const allowed = allowPrivate ? addresses : addresses.filter((a) => nonPublicCategory(a.address) === undefined);
      if (allowed.length === 0) {
        const first = addresses[0];
        const why = first ? `${first.address} (${nonPublicCategory(first.address)})` : 'no address';
        return callback(new BlockedAddressError(`${hostname} resolves to ${why}, which webhooks may not reach (webhook_allow_private)`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}
