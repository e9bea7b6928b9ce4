import { TargetGuard, unmapIPv4 } from './target-guard.js';

describe('TargetGuard', () => {
  const guard = new TargetGuard([]);

  it.each(['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fe80::1', 'fd00:ec2::254', 'ff02::1', '::ffff:127.0.0.1', '::ffff:a9fe:a9fe'])(
    'refuses %s by default',
    (ip) => expect(guard.allowsAddress(ip)).toBe(false),
  );

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8'])('allows public %s', (ip) => expect(guard.allowsAddress(ip)).toBe(true));

  it('allows what the allowlist names: CIDRs, addresses and host names', () => {
    const g = new TargetGuard(['127.0.0.0/8', '10.0.0.5', 'receiver.internal', '::1/128']);
    expect(g.allowsAddress('127.0.0.1')).toBe(true);
    expect(g.allowsAddress('::ffff:127.0.0.1')).toBe(true);
    expect(g.allowsAddress('10.0.0.5')).toBe(true);
    expect(g.allowsAddress('10.0.0.6')).toBe(false);
    expect(g.allowsAddress('::1')).toBe(true);
    expect(g.allowsHost('Receiver.Internal')).toBe(true);
    expect(g.allowsHost('other.internal')).toBe(false);
  });

  it('unmaps IPv4-mapped IPv6 in both notations', () => {
    expect(unmapIPv4('::ffff:169.254.169.254')).toBe('169.254.169.254');
    expect(unmapIPv4('::FFFF:a9fe:a9fe')).toBe('169.254.169.254');
    expect(unmapIPv4('2001:db8::1')).toBe('2001:db8::1');
  });
});
