import { WaEmulator } from '../../libs/wa-emulator/src';
import { waitFor } from '../support/services';
import { GatewayClient, muteLibsignalConsole, trustRoot } from './support/gateway-client';
import { linkByQr } from './support/linking';

describe('emulator: session lifecycle with stored credentials', () => {
  let emulator: WaEmulator;
  let previousRoot: Buffer;
  const clients: GatewayClient[] = [];
  const track = (c: GatewayClient) => (clients.push(c), c);

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

  it('closes with 408 after six unscanned QR codes', async () => {
    const client = track(new GatewayClient(emulator.wsUrl, undefined, { qrTimeout: 60 }).start());
    await waitFor(() => client.lastClose, { what: 'close after QR refs ran out' });
    expect(client.events.qrs).toHaveLength(6);
    expect(new Set(client.events.qrs).size).toBe(6);
    expect(client.lastClose.statusCode).toBe(408);
  });

  it('logs in again after a gateway restart with the stored credentials, without a QR', async () => {
    const phone = emulator.createPhone({ phoneNumber: '5511920000001' });
    const first = track(await linkByQr(emulator, phone));
    const me = first.auth.creds.me?.id;
    first.stop();
    await waitFor(() => phone.connectedDevices.length === 0, { what: 'device offline' });

    const restarted = track(new GatewayClient(emulator.wsUrl, first.auth).start());
    await waitFor(() => restarted.events.opened === 1, { what: 'open after restart' });
    expect(restarted.events.qrs).toHaveLength(0);
    expect(restarted.events.closes).toHaveLength(0);
    expect(restarted.auth.creds.me?.id).toBe(me);
    expect(phone.connectedDevices).toHaveLength(1);
  });

  it('queues messages while the session is offline and delivers them as append before the offline marker', async () => {
    const phone = emulator.createPhone({ phoneNumber: '5511920000002' });
    const bob = emulator.createPhone({ phoneNumber: '5511920000003', pushName: 'Bob' });
    const first = track(await linkByQr(emulator, phone));
    first.stop();
    await waitFor(() => phone.connectedDevices.length === 0, { what: 'device offline' });

    const one = await bob.sendText(phone.jid, 'sent while you were away');
    const two = await bob.sendText(phone.jid, 'and another one');
    expect(phone.snapshot().linkedDevices[0].queued).toBe(2);

    const back = track(new GatewayClient(emulator.wsUrl, first.auth).start());
    await waitFor(() => back.received('append').filter((m) => m.key.id === one || m.key.id === two).length === 2, { what: 'append upserts' });
    const texts = back.received('append').filter((m) => m.key.remoteJid === bob.jid).map((m) => m.message?.conversation);
    expect(texts).toEqual(['sent while you were away', 'and another one']);
    expect(back.received('notify').filter((m) => m.key.remoteJid === bob.jid)).toHaveLength(0);
    expect(phone.snapshot().linkedDevices[0].queued).toBe(0);
  });

  it('replaces an older connection of the same device with 440 when it logs in twice', async () => {
    const phone = emulator.createPhone({ phoneNumber: '5511920000004' });
    const first = track(await linkByQr(emulator, phone));
    const second = track(new GatewayClient(emulator.wsUrl, first.auth).start());
    await waitFor(() => second.events.opened === 1, { what: 'second connection open' });
    await waitFor(() => first.lastClose?.statusCode === 440, { what: 'first replaced (440)' });
    expect(first.events.closes.map((c) => c.statusCode)).toEqual([515, 440]);
  });

  it('unlinks on logout (401) and refuses the old credentials afterwards with 401', async () => {
    const phone = emulator.createPhone({ phoneNumber: '5511920000005' });
    const client = track(await linkByQr(emulator, phone));
    await client.sock.logout();
    await waitFor(() => client.lastClose?.statusCode === 401, { what: 'logout close 401' });
    await waitFor(() => phone.snapshot().linkedDevices.length === 0, { what: 'device removed' });

    const again = track(new GatewayClient(emulator.wsUrl, client.auth).start());
    await waitFor(() => again.lastClose, { what: 'close of removed device' });
    expect(again.lastClose.statusCode).toBe(401);
    expect(again.events.opened).toBe(0);
  });
});
