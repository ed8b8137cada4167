import { WaEmulator } from '../../libs/wa-emulator/src';
import { waitFor } from '../support/services';
import { GatewayClient, muteLibsignalConsole, trustRoot } from './support/gateway-client';

describe('emulator: login by pairing code', () => {
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

  async function clientAwaitingCode(phoneNumber: string) {
    const client = new GatewayClient(emulator.wsUrl).start();
    clients.push(client);
    // A registering connection shows a QR first; the pairing code is requested on the same connection.
    await waitFor(() => client.events.qrs[0], { what: 'registration connection ready' });
    const code = await client.sock.requestPairingCode(phoneNumber);
    return { client, code };
  }

  it('links when the phone enters the code, restarts on 515 and opens', async () => {
    const phone = emulator.createPhone({ phoneNumber: '5511950000001' });
    const { client, code } = await clientAwaitingCode(phone.phoneNumber);
    expect(code).toMatch(/^[A-Z0-9]{8}$/);
    const linked = await phone.enterPairingCode(code);
    expect(linked.jid).toMatch(/^5511950000001:\d+@s\.whatsapp\.net$/);
    await waitFor(() => client.events.opened === 1, { what: 'open after code pairing' });
    expect(client.events.closes.map((c) => c.statusCode)).toEqual([515]);
    expect(client.auth.creds.me?.id).toBe(linked.jid);
    expect(client.auth.creds.registered).toBe(true);
  });

  it('rejects a wrong code and does not link', async () => {
    const phone = emulator.createPhone({ phoneNumber: '5511950000002' });
    const { client } = await clientAwaitingCode(phone.phoneNumber);
    await expect(phone.enterPairingCode('WRONGCOD')).rejects.toThrow(/does not match/);
    expect(phone.snapshot().linkedDevices).toHaveLength(0);
    expect(client.events.opened).toBe(0);
  });

  it('refuses a code when no client is waiting for one', async () => {
    const phone = emulator.createPhone({ phoneNumber: '5511950000003' });
    await expect(phone.enterPairingCode('ABCD1234')).rejects.toThrow(/no client is waiting/);
  });
});
