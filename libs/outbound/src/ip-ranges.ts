import { BlockList, isIPv4, isIPv6 } from 'node:net';

type Family = 'ipv4' | 'ipv6';

/** Named address ranges a webhook must never reach (SSRF): checked in order, the first match names the reason. */
const FORBIDDEN: ReadonlyArray<{ reason: string; family: Family; ranges: Array<[string, number]> }> = [
  { reason: 'a cloud metadata address', family: 'ipv4', ranges: [['169.254.169.254', 32], ['100.100.100.200', 32]] },
  { reason: 'a cloud metadata address', family: 'ipv6', ranges: [['fd00:ec2::254', 128]] },
  { reason: 'the unspecified address', family: 'ipv4', ranges: [['0.0.0.0', 8]] },
  { reason: 'the unspecified address', family: 'ipv6', ranges: [['::', 128]] },
  { reason: 'a loopback address', family: 'ipv4', ranges: [['127.0.0.0', 8]] },
  { reason: 'a loopback address', family: 'ipv6', ranges: [['::1', 128]] },
  { reason: 'a private address', family: 'ipv4', ranges: [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10], ['192.0.0.0', 24], ['198.18.0.0', 15]] },
  { reason: 'a private address', family: 'ipv6', ranges: [['fc00::', 7], ['fec0::', 10]] },
  { reason: 'a link-local address', family: 'ipv4', ranges: [['169.254.0.0', 16]] },
  { reason: 'a link-local address', family: 'ipv6', ranges: [['fe80::', 10]] },
  { reason: 'a multicast address', family: 'ipv4', ranges: [['224.0.0.0', 4]] },
  { reason: 'a multicast address', family: 'ipv6', ranges: [['ff00::', 8]] },
  { reason: 'a reserved address', family: 'ipv4', ranges: [['240.0.0.0', 4]] },
  { reason: 'a reserved address', family: 'ipv6', ranges: [['100::', 64], ['2001:db8::', 32]] },
];

const LISTS = FORBIDDEN.map(({ reason, family, ranges }) => {
  const list = new BlockList();
  for (const [network, prefix] of ranges) list.addSubnet(network, prefix, family);
  return { reason, family, list };
});

/** Host names of cloud metadata services, refused whatever they resolve to. */
export const FORBIDDEN_HOST_NAMES: ReadonlySet<string> = new Set(['metadata.google.internal', 'metadata.goog']);

/** The 8 16-bit groups of an IPv6 address (dotted IPv4 tails included). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().split('%')[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = text.slice(0, -dotted[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].map((g) => parseInt(g, 16));
}

/**
 * The IPv4 address carried inside an IPv6 one, in the forms that reach an
 * IPv4 host: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and
 * NAT64 (64:ff9b::a.b.c.d).
 */
export function embeddedIpv4(address: string): string | null {
  if (!isIPv6(address)) return null;
  const g = ipv6Groups(address);
  const zeroHead = g.slice(0, 5).every((x) => x === 0);
  const mapped = zeroHead && g[5] === 0xffff;
  const compatible = zeroHead && g[5] === 0 && (g[6] !== 0 || g[7] > 1);
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
  if (!mapped && !compatible && !nat64) return null;
  return [g[6] >> 8, g[6] & 0xff, g[7] >> 8, g[7] & 0xff].join('.');
}

/** Why this address is off limits for a webhook, or null when it is a public unicast address. */
export function forbiddenAddressReason(address: string): string | null {
  const inner = embeddedIpv4(address);
  if (inner) return forbiddenAddressReason(inner);
  const family: Family | null = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null;
  if (!family) return 'not an IP address';
  const bare = address.split('%')[0];
  for (const entry of LISTS) if (entry.family === family && entry.list.check(bare, family)) return entry.reason;
  return null;
}

/** WEBHOOK_ALLOW_PRIVATE_HOSTS: host names, IP addresses and CIDR ranges exempt from the guard. */
export class AddressAllowlist {
  private readonly names = new Set<string>();
  private readonly addresses = new BlockList();

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
      if (!entry) continue;
      const [network, prefix] = entry.split('/');
      const family: Family | null = isIPv4(network) ? 'ipv4' : isIPv6(network) ? 'ipv6' : null;
      if (family && prefix !== undefined) this.addresses.addSubnet(network, Number(prefix), family);
      else if (family) this.addresses.addAddress(network, family);
      else this.names.add(entry.replace(/\.$/, ''));
    }
  }

  allowsName(hostname: string): boolean {
    return this.names.has(hostname.toLowerCase().replace(/\.$/, ''));
  }

  allowsAddress(address: string): boolean {
    const inner = embeddedIpv4(address);
    if (inner && this.allowsAddress(inner)) return true;
    const bare = address.split('%')[0];
    if (isIPv4(bare)) return this.addresses.check(bare, 'ipv4');
    return isIPv6(bare) && this.addresses.check(bare, 'ipv6');
  }
}
