import { WaEmulator } from '../../libs/wa-emulator/src';
import { waitFor } from '../support/services';
import { GatewayClient, muteLibsignalConsole, trustRoot } from './support/gateway-client';
import { linkByQr } from './support/linking';

describe('emulator: QR login with the real Baileys', () => {
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

  it('shows a QR, pairs when the phone scans it, restarts on 515 and opens', async () => {
    const phone = emulator.createPhone({ phoneNumber: '5511900000001', pushName: 'Alice' });
    const client = await linkByQr(emulator, phone);
    clients.push(client);
    expect(client.events.qrs[0].split(',')).toHaveLength(5);
    expect(client.events.isNewLogin).toBe(true);
    expect(client.events.closes.map((c) => c.statusCode)).toEqual([515]);
    expect(client.auth.creds.me?.id).toMatch(/^5511900000001:\d+@s\.whatsapp\.net$/);
    expect(client.auth.creds.me?.lid).toMatch(/@lid$/);
    expect(client.events.credsUpdates).toBeGreaterThan(0);
    expect(phone.connectedDevices).toHaveLength(1);
  });

  it('sends a text that the phone stores, acks and receipts as delivered', async () => {
    const alice = emulator.createPhone({ phoneNumber: '5511900000002' });
    const bob = emulator.createPhone({ phoneNumber: '5511900000003', pushName: 'Bob' });
    const client = await linkByQr(emulator, alice);
    clients.push(client);
    const sent = await client.sock.sendMessage(bob.jid, { text: 'hello bob' });
    const id = sent!.key.id!;
    await waitFor(() => bob.messages.find((m) => m.id === id), { what: 'message stored at bob' });
    expect(bob.messages[0]).toMatchObject({ id, from: alice.jid, type: 'text', text: 'hello bob' });
    await waitFor(() => client.events.serverAcks.find((a) => a.id === id), { what: 'server ack' });
    await waitFor(() => client.statusesFor(id).includes(3), { what: 'delivery receipt (status 3)' });
    expect(client.statusesFor(id)).not.toContain(4);
    expect(bob.duplicates).toBe(0);
    expect(bob.decryptFailures).toBe(0);
  });
});
