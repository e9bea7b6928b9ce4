import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Ranges no webhook is sent to unless the allowlist names them (RFC 6890 special-purpose, metadata). */
const REFUSED_V4 = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const;
const REFUSED_V6 = [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32],
  ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const;

const refused = new BlockList();
for (const [net, prefix] of REFUSED_V4) refused.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of REFUSED_V6) refused.addSubnet(net, prefix, 'ipv6');

/** `::ffff:1.2.3.4` and `::ffff:102:304` → `1.2.3.4`; other addresses unchanged. */
export function unmapIPv4(address: string): string {
  const lower = address.toLowerCase();
  if (!lower.startsWith('::ffff:')) return address;
  const tail = lower.slice(7);
  if (isIP(tail) === 4) return tail;
  const m = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(tail);
  if (!m) return address;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export class TargetRefusedError extends Error {
  readonly code = 'TARGET_REFUSED';
}

/**
 * The SSRF guard: private, loopback, link-local, multicast, reserved and cloud
 * metadata addresses are refused unless DELIVERY_TARGET_ALLOWLIST names them
 * (CIDRs, addresses or host names). It is asked about the address actually
 * connected to (see HttpSender's lookup), not about what the URL says.
 */
export class TargetGuard {
  private readonly allowedNets = new BlockList();
  private readonly allowedHosts = new Set<string>();

  constructor(allowlist: readonly string[]) {
    for (const entry of allowlist) {
      const [net, prefix] = entry.split('/');
      const family = isIP(net ?? '');
      if (family === 0) {
        this.allowedHosts.add(entry.toLowerCase());
      } else if (prefix === undefined) {
        this.allowedNets.addAddress(net!, family === 4 ? 'ipv4' : 'ipv6');
      } else {
        this.allowedNets.addSubnet(net!, Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
      }
    }
  }

  /** Host names named by the allowlist are not checked further. */
  allowsHost(hostname: string): boolean {
    return this.allowedHosts.has(hostname.toLowerCase());
  }

  /** Whether a webhook may be sent to this IP address. */
  allowsAddress(address: string): boolean {
    const ip = unmapIPv4(address);
    const family = isIP(ip) === 4 ? 'ipv4' : 'ipv6';
    if (this.allowedNets.check(ip, family)) return true;
    return !refused.check(ip, family);
  }
}

export function refusedMessage(host: string, addresses: string[]): string {
  return `${host} resolves to ${addresses.join(', ')}: private, loopback, link-local and metadata addresses are refused unless DELIVERY_TARGET_ALLOWLIST names them`;
}

/**
 * DNS lookup that hands the socket only addresses the guard allows (a host name the allowlist
 * names is not checked further); none left: a TargetRefusedError.
 */
export function guardedLookup(guard: TargetGuard): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const allowed = guard.allowsHost(hostname) ? addresses : addresses.filter((a) => guard.allowsAddress(a.address));
      if (allowed.length === 0) {
        return callback(new TargetRefusedError(refusedMessage(hostname, addresses.map((a) => a.address))), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}
