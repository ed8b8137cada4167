import https from 'node:https';
import { WaEmulator } from '../../libs/wa-emulator/src';
import { waitFor } from '../support/services';
import { GatewayClient, muteLibsignalConsole, trustRoot } from './support/gateway-client';

describe('emulator: control API over HTTP', () => {
  let emulator: WaEmulator;
  let previousRoot: Buffer;
  const clients: GatewayClient[] = [];

  beforeAll(async () => {
    emulator = await WaEmulator.start({ port: 0 });
    previousRoot = trustRoot(emulator.rootPublicKey);
    muteLibsignalConsole();
  });

  afterAll(async () => {
    for (const c of clients) c.stop();
    await emulator.close();
    trustRoot(previousRoot);
  });

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${emulator.url}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, type: response.headers.get('content-type') };
  }

  it('GET /v1/info returns the socket URL, the root public key in hex and the media host with its certificate', async () => {
    const { status, body } = await call('GET', '/v1/info');
    expect(status).toBe(200);
    expect(body).toEqual({ wsUrl: emulator.wsUrl, rootPublicKey: emulator.rootPublicKey.toString('hex'), mediaHost: emulator.media.hostname, mediaCaCert: emulator.media.caCert });
    expect(body.mediaHost).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(body.mediaCaCert).toContain('-----BEGIN CERTIFICATE-----');
    // The media host refuses uploads without the media_conn token, over TLS that the certificate vouches for.
    const upload = await new Promise<number>((resolve, reject) =>
      https
        .request({ host: '127.0.0.1', port: Number(body.mediaHost.split(':')[1]), path: '/mms/image/abc?auth=wrong', method: 'POST', ca: body.mediaCaCert }, (res) => resolve(res.statusCode ?? 0))
        .on('error', reject)
        .end('x'),
    );
    expect(upload).toBe(401);
    expect(body.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\/chat$/);
    expect(body.rootPublicKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it('links by QR, exchanges messages and injects a fault, all over HTTP', async () => {
    const created = await call('POST', '/v1/phones', { phoneNumber: '+5511960000001', pushName: 'Gateway owner' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ phoneNumber: '5511960000001', jid: '5511960000001@s.whatsapp.net', pushName: 'Gateway owner' });
    expect((await call('POST', '/v1/phones', { phoneNumber: '5511960000002', pushName: 'Customer' })).status).toBe(201);

    const client = new GatewayClient(emulator.wsUrl).start();
    clients.push(client);
    const qr = await waitFor(() => client.events.qrs[0], { what: 'QR' });
    const linked = await call('POST', '/v1/phones/5511960000001/link', { qr });
    expect(linked.status).toBe(200);
    expect(linked.body.jid).toMatch(/^5511960000001:\d+@s\.whatsapp\.net$/);
    await waitFor(() => client.events.opened === 1, { what: 'open' });

    const sent = await call('POST', '/v1/phones/5511960000002/messages', { to: '5511960000001', text: 'order #1' });
    expect(sent.status).toBe(201);
    const upsert = await waitFor(() => client.received('notify').find((m) => m.key.id === sent.body.id), { what: 'upsert' });
    expect(upsert.message?.conversation).toBe('order #1');

    // A photo from the phone: encrypted onto the media host; the linked client gets the reference, the phone's copy decrypts.
    const photo = Buffer.from('not really a jpeg, but bytes');
    const image = await call('POST', '/v1/phones/5511960000002/messages', { to: '5511960000001', media: { type: 'image', base64: photo.toString('base64'), mimetype: 'image/jpeg', caption: 'look' } });
    expect(image.status).toBe(201);
    const imageUpsert = await waitFor(() => client.received('notify').find((m) => m.key.id === image.body.id), { what: 'image upsert' });
    expect(imageUpsert.message?.imageMessage).toMatchObject({ mimetype: 'image/jpeg', caption: 'look', directPath: expect.stringMatching(/^\/v\/emulator\//) });
    const media = await call('GET', `/v1/phones/5511960000001/messages/${image.body.id}/media`);
    expect(media).toMatchObject({ status: 200, body: { type: 'image', mimetype: 'image/jpeg', bytes: photo.length, base64: photo.toString('base64') } });

    const out = await client.sock.sendMessage('5511960000002@s.whatsapp.net', { text: 'thanks' });
    const inbox = await waitFor(async () => {
      const r = await call('GET', '/v1/phones/5511960000002/messages');
      return r.body.length ? r : undefined;
    }, { what: 'message listed' });
    expect(inbox.body).toEqual([{ id: out!.key.id, from: '5511960000001@s.whatsapp.net', fromDevice: expect.any(String), text: 'thanks', type: 'text', receivedAt: expect.any(String) }]);

    const details = await call('GET', '/v1/phones/5511960000002');
    expect(details.body).toMatchObject({ received: 1, duplicates: 0 });

    const patched = await call('PATCH', '/v1/phones/5511960000002', { autoReadReceipt: true });
    expect(patched.status).toBe(200);
    expect(patched.body.options.autoReadReceipt).toBe(true);

    const fault = await call('POST', '/v1/phones/5511960000001/faults', { type: 'drop' });
    expect(fault).toMatchObject({ status: 200, body: { applied: 'drop', connections: 1 } });
    await waitFor(() => client.lastClose?.statusCode === 428, { what: 'close 428' });
  });

  it.each([
    ['unknown route', 'GET', '/v2/nothing', undefined, 404],
    ['wrong method', 'DELETE', '/v1/info', undefined, 405],
    ['body not JSON', 'POST', '/v1/phones', '{nope', 400],
    ['body not an object', 'POST', '/v1/phones', [1, 2], 400],
    ['missing phoneNumber', 'POST', '/v1/phones', { pushName: 'x' }, 400],
    ['phoneNumber with letters', 'POST', '/v1/phones', { phoneNumber: 'abc' }, 400],
    ['duplicate phone', 'POST', '/v1/phones', { phoneNumber: '5511960000001' }, 409],
    ['unknown phone', 'GET', '/v1/phones/5599999999999', undefined, 404],
    ['link without qr', 'POST', '/v1/phones/5511960000001/link', {}, 400],
    ['link with a malformed qr', 'POST', '/v1/phones/5511960000001/link', { qr: 'not,a,qr' }, 400],
    ['link with an unknown qr', 'POST', '/v1/phones/5511960000001/link', { qr: `ref,${'A'.repeat(43)}=,${'A'.repeat(43)}=,${'A'.repeat(43)}=,1` }, 404],
    ['link-code too short', 'POST', '/v1/phones/5511960000001/link-code', { code: '123' }, 400],
    ['message without text', 'POST', '/v1/phones/5511960000001/messages', { to: '5511960000002' }, 400],
    ['message to unknown account', 'POST', '/v1/phones/5511960000001/messages', { to: '5599999999999', text: 'x' }, 404],
    ['unknown fault', 'POST', '/v1/phones/5511960000001/faults', { type: 'explode' }, 400],
    ['fault without a connected device', 'POST', '/v1/phones/5511960000002/faults', { type: 'drop' }, 409],
    ['ack-error with a bad count', 'POST', '/v1/phones/5511960000001/faults', { type: 'ack-error', count: -1 }, 400],
    ['patch with a non-boolean', 'PATCH', '/v1/phones/5511960000001', { online: 'yes' }, 400],
    ['patch with nothing', 'PATCH', '/v1/phones/5511960000001', {}, 400],
    ['media of a message never received', 'GET', '/v1/phones/5511960000002/messages/NOPE/media', undefined, 404],
    ['media of a text message', 'GET', '/v1/phones/5511960000001/messages/__first__/media', undefined, 404],
    ['media of an unknown type', 'POST', '/v1/phones/5511960000001/messages', { to: '5511960000002', media: { type: 'gif', base64: 'AAAA', mimetype: 'image/gif' } }, 400],
    ['media without base64', 'POST', '/v1/phones/5511960000001/messages', { to: '5511960000002', media: { type: 'image', mimetype: 'image/png' } }, 400],
  ])('answers 4xx JSON for %s', async (_name, method, path, body, expected) => {
    // `__first__`: the first message the gateway owner's phone received (a text).
    const resolved = (path as string).replace('__first__', () => emulator.phone('5511960000001').messages[0].id);
    const result = await call(method as string, resolved, body);
    expect(result.status).toBe(expected);
    expect(result.type).toMatch(/application\/json/);
    expect(result.body).toMatchObject({ error: expect.any(String), code: expect.any(String) });
  });

  it('rejects a non-JSON content type with 415', async () => {
    const result = await call('POST', '/v1/phones', 'phoneNumber=1', { 'content-type': 'text/plain' });
    expect(result.status).toBe(415);
  });
});
