import { WaEmulator } from '../../libs/wa-emulator/src';
import { waitFor } from '../support/services';
import { GatewayClient, muteLibsignalConsole, trustRoot } from './support/gateway-client';
import { linkByQr } from './support/linking';

describe('emulator: two gateway sessions talking to each other', () => {
  let emulator: WaEmulator;
  let previousRoot: Buffer;
  let a: GatewayClient;
  let b: GatewayClient;

  beforeAll(async () => {
    emulator = await WaEmulator.start({ port: 0 });
    previousRoot = trustRoot(emulator.rootPublicKey);
    muteLibsignalConsole();
  });

  afterAll(async () => {
    a?.stop();
    b?.stop();
    await emulator.close();
    trustRoot(previousRoot);
  });

  it('relays messages both ways between the linked sessions and receipts them', async () => {
    const phoneA = emulator.createPhone({ phoneNumber: '5511940000001', pushName: 'Shop A' });
    const phoneB = emulator.createPhone({ phoneNumber: '5511940000002', pushName: 'Shop B' });
    a = await linkByQr(emulator, phoneA);
    b = await linkByQr(emulator, phoneB);

    const sent = await a.sock.sendMessage(phoneB.jid, { text: 'hello from gateway A' });
    const id = sent!.key.id!;
    const atB = await waitFor(() => b.received('notify').find((m) => m.key.id === id), { what: 'message at gateway B' });
    expect(atB.message?.conversation ?? atB.message?.extendedTextMessage?.text).toBe('hello from gateway A');
    expect(atB.key.fromMe).toBe(false);
    expect(atB.key.remoteJid).toBe(phoneA.jid);
    // B's own primary phone got its copy too.
    await waitFor(() => phoneB.messages.some((m) => m.id === id), { what: 'copy at phone B' });
    await waitFor(() => a.statusesFor(id).includes(3), { what: 'delivery at A' });

    const reply = await b.sock.sendMessage(phoneA.jid, { text: 'hello back from B' });
    const replyId = reply!.key.id!;
    const atA = await waitFor(() => a.received('notify').find((m) => m.key.id === replyId), { what: 'reply at gateway A' });
    expect(atA.message?.conversation ?? atA.message?.extendedTextMessage?.text).toBe('hello back from B');
    expect(phoneA.decryptFailures + phoneB.decryptFailures).toBe(0);
    expect(phoneA.duplicates + phoneB.duplicates).toBe(0);
    expect(emulator.nodeErrors).toEqual([]);
  });
});
