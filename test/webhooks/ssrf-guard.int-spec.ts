import { HostResolver } from '../../libs/webhooks/src';
import { waitFor } from '../support/services';
import { WebhookHarness } from './support/gateway-harness';
import { WebhookReceiver } from './support/receiver';

describe('webhook SSRF guard', () => {
  describe('without an allowlist', () => {
    let h: WebhookHarness;

    beforeAll(async () => {
      h = await WebhookHarness.start({ WEBHOOK_ALLOW_PRIVATE_HOSTS: '' });
      // A name we control resolves to a private address, as an attacker's DNS would.
      const resolver = h.gw.app.get(HostResolver);
      const real = resolver.resolve.bind(resolver);
      jest.spyOn(resolver, 'resolve').mockImplementation(async (name) => {
        if (name === 'internal.attacker.test') return [{ address: '10.1.2.3', family: 4 }];
        if (name === 'mixed.attacker.test') return [{ address: '93.184.216.34', family: 4 }, { address: '192.168.1.1', family: 4 }];
        if (name === 'public.example.test') return [{ address: '93.184.216.34', family: 4 }];
        return real(name);
      });
    });

    afterAll(async () => {
      await h?.cleanup();
      await h?.close();
    });

    it.each([
      ['http://127.0.0.1:8080/hook', 'loopback'],
      ['http://10.0.0.1/hook', 'private'],
      ['http://172.16.5.4/hook', 'private'],
      ['http://192.168.0.10/hook', 'private'],
      ['http://100.64.0.1/hook', 'private'],
      ['http://169.254.169.254/latest/meta-data', 'cloud metadata'],
      ['http://169.254.10.10/', 'link-local'],
      ['http://0.0.0.0/', 'unspecified'],
      ['http://224.0.0.1/', 'multicast'],
      ['http://[::1]/hook', 'loopback'],
      ['http://[::ffff:127.0.0.1]/hook', 'loopback'],
      ['http://[::ffff:a9fe:a9fe]/hook', 'cloud metadata'],
      ['http://[fd00:ec2::254]/', 'cloud metadata'],
      ['http://[fc00::1]/', 'private'],
      ['http://[fe80::1]/', 'link-local'],
      ['http://localhost:3000/hook', 'loopback'],
      ['http://metadata.google.internal/computeMetadata/v1/', 'cloud metadata'],
      ['http://internal.attacker.test/hook', '10.1.2.3'],
      ['http://mixed.attacker.test/hook', '192.168.1.1'],
    ])('refuses %s at subscription time (%s)', async (url, reason) => {
      const response = await h.request('POST', '/webhooks', { url });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body.code).toBe('WEBHOOK_URL_FORBIDDEN');
      expect(response.body.detail).toContain(reason);
    });

    it.each(['http://2130706433/', 'http://0x7f.1/', 'http://user:pw@public.example.test/'])('refuses the disguised address %s with a 400', async (url) => {
      const response = await h.request('POST', '/webhooks', { url });
      expect(response.status).toBe(400);
      expect(['VALIDATION_FAILED', 'WEBHOOK_URL_FORBIDDEN']).toContain(response.body.code);
    });

    it('refuses other schemes and accepts a public host', async () => {
      expect((await h.request('POST', '/webhooks', { url: 'ftp://public.example.test/x' })).status).toBe(400);
      expect((await h.request('POST', '/webhooks', { url: 'file:///etc/passwd' })).status).toBe(400);
      const ok = await h.subscribe('https://public.example.test/hook');
      expect(ok.id).toBeDefined();
    });

    it('refuses a forbidden webhookUrl on a connection before creating it', async () => {
      const before = await h.request('GET', '/connections?limit=200');
      const response = await h.request('POST', '/connections', { label: 'ssrf', webhookUrl: 'http://169.254.169.254/' });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('WEBHOOK_URL_FORBIDDEN');
      expect((await h.request('GET', '/connections?limit=200')).body.items).toHaveLength(before.body.items.length);
    });
  });

  describe('at delivery time', () => {
    let h: WebhookHarness;
    let receiver: WebhookReceiver;
    let rebound = false;

    beforeAll(async () => {
      // The allowlist exempts the receiver's address, the way tests reach 127.0.0.1.
      h = await WebhookHarness.start({ WEBHOOK_ALLOW_PRIVATE_HOSTS: '127.0.0.1' });
      receiver = await new WebhookReceiver().start();
      const resolver = h.gw.app.get(HostResolver);
      jest.spyOn(resolver, 'resolve').mockImplementation(async (name) => {
        if (name === 'rebind.attacker.test') return [{ address: rebound ? '10.9.9.9' : '127.0.0.1', family: 4 }];
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      });
    });

    afterAll(async () => {
      await h?.cleanup();
      await h?.close();
      await receiver?.stop();
    });

    it('refuses a host that resolves to a private address when the delivery connects (DNS rebinding)', async () => {
      const url = `http://rebind.attacker.test:${receiver.port}/hooks`;
      const sub = await h.subscribe(url);
      // Now the name points inside the network.
      rebound = true;
      const event = h.event();
      await h.bus.publish(event);
      const delivery = await h.untilDelivery(sub.id, event.id, (d) => d.attempts >= 2, 'two refused attempts');
      expect(delivery.error).toContain('WEBHOOK_URL_FORBIDDEN');
      expect(delivery.error).toContain('10.9.9.9');
      expect(delivery.lastStatusCode).toBeNull();
      expect(receiver.requests).toHaveLength(0);

      // The name points back at the allowed address: the same delivery goes through.
      rebound = false;
      await waitFor(() => receiver.requestsFor(event.id).length === 1, { what: 'the delivery after the name was restored', timeoutMs: 10000 });
      expect(receiver.requests[0].headers.host).toBe(`rebind.attacker.test:${receiver.port}`);
    });
  });
});
