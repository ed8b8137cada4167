import type { AppConfig } from '../../../config/src';
import { embeddedIpv4, forbiddenAddressReason } from '../../../outbound/src/ip-ranges';
import { ForbiddenTargetError, HostResolver, WebhookUrlGuard } from './url-guard';

class FakeResolver extends HostResolver {
  constructor(private readonly answers: Record<string, string[]>) {
    super();
  }
  async resolve(name: string) {
    const found = this.answers[name];
    if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: (address.includes(':') ? 6 : 4) as 4 | 6 }));
  }
}

const guardWith = (allow: string[], answers: Record<string, string[]> = {}) =>
  new WebhookUrlGuard(new FakeResolver(answers), { webhookAllowPrivateHosts: allow } as unknown as AppConfig);

describe('address classification', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.255.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.127.0.1', 'private'],
    ['169.254.169.254', 'cloud metadata'],
    ['169.254.1.1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['239.1.1.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'cloud metadata'],
    ['fd12:3456::1', 'private'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
  ])('%s is %s', (address, reason) => {
    expect(forbiddenAddressReason(address)).toContain(reason);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) => {
    expect(forbiddenAddressReason(address)).toBeNull();
  });

  it('extracts the IPv4 address of mapped, compatible and NAT64 forms only', () => {
    expect(embeddedIpv4('::ffff:192.168.0.1')).toBe('192.168.0.1');
    expect(embeddedIpv4('::c0a8:1')).toBe('192.168.0.1');
    expect(embeddedIpv4('64:ff9b::c0a8:1')).toBe('192.168.0.1');
    expect(embeddedIpv4('::1')).toBeNull();
    expect(embeddedIpv4('2001:db8::1')).toBeNull();
  });
});

describe('WebhookUrlGuard', () => {
  it('refuses disguised loopback forms after URL normalisation', async () => {
    const guard = guardWith([]);
    for (const url of ['http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://[::ffff:127.0.0.1]/']) {
      await expect(guard.check(url)).rejects.toThrow(/loopback/);
    }
  });

  it('refuses a name when any of its addresses is private, and names that do not resolve', async () => {
    const guard = guardWith([], { 'mixed.test': ['8.8.8.8', '10.0.0.1'], 'ok.test': ['8.8.8.8'] });
    await expect(guard.check('https://mixed.test/x')).rejects.toThrow(/10\.0\.0\.1/);
    await expect(guard.check('https://nowhere.test/x')).rejects.toThrow(/does not resolve/);
    await expect(guard.check('https://ok.test/x')).resolves.toBeInstanceOf(URL);
    await expect(guard.check('gopher://ok.test/x')).rejects.toBeInstanceOf(ForbiddenTargetError);
  });

  it('exempts allowlisted names, addresses and CIDR ranges', async () => {
    const guard = guardWith(['localhost', '10.0.0.0/8', '::1'], { localhost: ['127.0.0.1'], 'lan.test': ['10.2.3.4'], 'other.test': ['192.168.0.2'] });
    await expect(guard.resolveForConnect('localhost')).resolves.toEqual({ address: '127.0.0.1', family: 4 });
    await expect(guard.resolveForConnect('lan.test')).resolves.toEqual({ address: '10.2.3.4', family: 4 });
    await expect(guard.resolveForConnect('::1')).resolves.toEqual({ address: '::1', family: 6 });
    await expect(guard.resolveForConnect('other.test')).rejects.toThrow(/private/);
    await expect(guard.resolveForConnect('127.0.0.1')).rejects.toThrow(/loopback/);
  });

  it('refuses cloud metadata names whatever the allowlist resolves them to', async () => {
    const guard = guardWith(['169.254.0.0/16'], { 'metadata.google.internal': ['169.254.169.254'] });
    await expect(guard.check('http://metadata.google.internal/')).rejects.toThrow(/metadata/);
  });
});
