import { proto } from '@whiskeysockets/baileys';
import { WaEmulator, type SimulatedPhone } from '../../libs/wa-emulator/src';
import { waitFor } from '../support/services';
import { GatewayClient, muteLibsignalConsole, trustRoot } from './support/gateway-client';
import { linkByQr } from './support/linking';

const ERROR = proto.WebMessageInfo.Status.ERROR;
const DELIVERED = proto.WebMessageInfo.Status.DELIVERY_ACK;
const READ = proto.WebMessageInfo.Status.READ;

describe('emulator: messages between a gateway session and simulated accounts', () => {
  let emulator: WaEmulator;
  let previousRoot: Buffer;
  let alice: SimulatedPhone;
  let client: GatewayClient;
  let seq = 0;
  const contact = () => emulator.createPhone({ phoneNumber: `55119100${String(++seq).padStart(5, '0')}`, pushName: `Contact ${seq}` });

  beforeAll(async () => {
    emulator = await WaEmulator.start({ port: 0 });
    previousRoot = trustRoot(emulator.rootPublicKey);
    muteLibsignalConsole();
    alice = emulator.createPhone({ phoneNumber: '5511910000000', pushName: 'Alice' });
    client = await linkByQr(emulator, alice);
  });

  afterAll(async () => {
    client?.stop();
    await emulator.close();
    trustRoot(previousRoot);
  });

  async function send(to: SimulatedPhone, content: Parameters<GatewayClient['sock']['sendMessage']>[1]) {
    const sent = await client.sock.sendMessage(to.jid, content);
    return sent!.key.id!;
  }

  it('stores text, extended text, reaction, location, contact and poll with type and text', async () => {
    const bob = contact();
    const text = await send(bob, { text: 'plain' });
    const extended = await send(bob, { text: 'see https://example.com' });
    const reaction = await send(bob, { react: { text: '👍', key: { remoteJid: bob.jid, id: text, fromMe: true } } });
    const location = await send(bob, { location: { degreesLatitude: -23.5, degreesLongitude: -46.6, name: 'Sao Paulo' } });
    const card = 'BEGIN:VCARD\nVERSION:3.0\nFN:Carol\nTEL;type=CELL;waid=5511999:+55 11 999\nEND:VCARD';
    const vcard = await send(bob, { contacts: { displayName: 'Carol', contacts: [{ vcard: card }] } });
    const poll = await send(bob, { poll: { name: 'Lunch?', values: ['yes', 'no'], selectableCount: 1 } });
    await waitFor(() => bob.messages.length >= 6, { what: 'six messages at bob' });
    const byId = (id: string) => bob.messages.find((m) => m.id === id);
    expect(byId(text)).toMatchObject({ type: 'text', text: 'plain', from: alice.jid });
    expect(byId(extended)).toMatchObject({ type: 'text', text: 'see https://example.com' });
    expect(byId(reaction)).toMatchObject({ type: 'reaction', text: '👍' });
    expect(byId(location)).toMatchObject({ type: 'location', text: 'Sao Paulo' });
    expect(byId(vcard)).toMatchObject({ type: 'contact', text: 'Carol' });
    expect(byId(poll)).toMatchObject({ type: 'poll', text: 'Lunch?' });
    expect(bob.duplicates).toBe(0);
    expect(bob.decryptFailures).toBe(0);
  });

  it('sends a read receipt only when autoReadReceipt is set', async () => {
    const bob = contact();
    await bob.setOptions({ autoReadReceipt: true });
    const id = await send(bob, { text: 'read me' });
    await waitFor(() => client.statusesFor(id).includes(READ), { what: 'read receipt (status 4)' });
    // Baileys may fold the delivery into the read status; the phone sent both.
    expect(bob.snapshot().counters.receiptsSent).toBe(2);

    const carol = contact();
    const unread = await send(carol, { text: 'delivered only' });
    const marker = await send(carol, { text: 'marker' });
    await waitFor(() => client.statusesFor(marker).includes(DELIVERED), { what: 'marker delivered' });
    expect(client.statusesFor(unread)).toContain(DELIVERED);
    expect(client.statusesFor(unread)).not.toContain(READ);
  });

  it('sends no delivery receipt when autoDeliveryReceipt is off', async () => {
    const bob = contact();
    await bob.setOptions({ autoDeliveryReceipt: false });
    const silent = await send(bob, { text: 'no receipt' });
    await waitFor(() => bob.messages.some((m) => m.id === silent), { what: 'stored without receipt' });
    await bob.setOptions({ autoDeliveryReceipt: true });
    const marker = await send(bob, { text: 'with receipt' });
    await waitFor(() => client.statusesFor(marker).includes(DELIVERED), { what: 'marker delivered' });
    expect(client.statusesFor(silent)).not.toContain(DELIVERED);
  });

  it('holds messages for an offline phone and receipts them when it comes back', async () => {
    const bob = contact();
    await bob.setOptions({ online: false });
    const id = await send(bob, { text: 'while offline' });
    await waitFor(() => client.events.serverAcks.some((a) => a.id === id), { what: 'server ack' });
    expect(bob.messages).toHaveLength(0);
    expect(bob.snapshot().pendingWhileOffline).toBe(1);
    await bob.setOptions({ online: true });
    expect(bob.messages.map((m) => m.text)).toEqual(['while offline']);
    await waitFor(() => client.statusesFor(id).includes(DELIVERED), { what: 'delivery after coming online' });
  });

  it('stores a message re-sent with the same id once and counts the duplicate', async () => {
    const bob = contact();
    const content = { conversation: 'only once' };
    const id = await client.sock.relayMessage(bob.jid, content, { messageId: 'DUPLICATE-ID-1' });
    await waitFor(() => bob.messages.length === 1, { what: 'first copy stored' });
    expect(bob.duplicates).toBe(0);
    await client.sock.relayMessage(bob.jid, content, { messageId: id });
    await waitFor(() => bob.duplicates === 1, { what: 'duplicate counted' });
    expect(bob.messages).toHaveLength(1);
    expect(bob.messages[0]).toMatchObject({ id: 'DUPLICATE-ID-1', text: 'only once' });
  });

  it('delivers a phone message to the online session as messages.upsert notify', async () => {
    const bob = contact();
    const id = await bob.sendText(alice.jid, 'hi from bob');
    const got = await waitFor(() => client.received('notify').find((m) => m.key.id === id), { what: 'notify upsert' });
    expect(got.message?.conversation ?? got.message?.extendedTextMessage?.text).toBe('hi from bob');
    expect(got.key.fromMe).toBe(false);
    expect(got.key.remoteJid).toBe(bob.jid);
    expect(got.pushName).toBe(bob.snapshot().pushName);
    await waitFor(() => bob.receipts.some((r) => r.id === id), { what: 'gateway receipt back at bob' });
  });

  it('mirrors what the phone itself sends to its linked session as a fromMe message', async () => {
    const bob = contact();
    const id = await alice.sendText(bob.jid, 'typed on the phone');
    const mirrored = await waitFor(() => client.received().find((m) => m.key.id === id), { what: 'own-device copy' });
    expect(mirrored.key.fromMe).toBe(true);
    expect(mirrored.key.remoteJid).toBe(bob.jid);
    expect(mirrored.message?.conversation).toBe('typed on the phone');
    expect(bob.messages.map((m) => m.text)).toEqual(['typed on the phone']);
  });

  it('answers a send with an injected error ack and then recovers', async () => {
    const bob = contact();
    expect(alice.fault({ type: 'ack-error', code: '479', count: 1 })).toBe(0);
    const failed = await send(bob, { text: 'will fail' });
    await waitFor(() => client.statusesFor(failed).includes(ERROR), { what: 'status ERROR from error ack' });
    expect(client.events.serverAcks.find((a) => a.id === failed)?.error).toBe('479');
    const ok = await send(bob, { text: 'works again' });
    await waitFor(() => client.statusesFor(ok).includes(DELIVERED), { what: 'next send delivered' });
    expect(bob.messages.map((m) => m.text)).toEqual(['works again']);
  });

  it('keeps answering error acks until cleared when no count is given', async () => {
    const bob = contact();
    alice.fault({ type: 'ack-error', code: '500' });
    const first = await send(bob, { text: 'a' });
    const second = await send(bob, { text: 'b' });
    await waitFor(() => client.statusesFor(second).includes(ERROR) && client.statusesFor(first).includes(ERROR), { what: 'both failed' });
    alice.fault({ type: 'clear' });
    const third = await send(bob, { text: 'c' });
    await waitFor(() => client.statusesFor(third).includes(DELIVERED), { what: 'delivered after clear' });
  });

  it('rejects sends over the account rate limit with an error ack', async () => {
    const bob = contact();
    await alice.setOptions({ sendRateLimit: { max: 1, windowMs: 60_000 } });
    try {
      const allowed = await send(bob, { text: 'within limit' });
      const excess = await send(bob, { text: 'over limit' });
      await waitFor(() => client.statusesFor(excess).includes(ERROR), { what: 'rate-limited send fails' });
      expect(client.events.serverAcks.find((a) => a.id === excess)?.error).toBe('429');
      await waitFor(() => client.statusesFor(allowed).includes(DELIVERED), { what: 'allowed send delivered' });
      expect(alice.snapshot().counters.sendsRejected).toBeGreaterThanOrEqual(1);
    } finally {
      await alice.setOptions({ sendRateLimit: null });
    }
  });

  it('delays server acks by the injected latency without holding up the sends behind them', async () => {
    const bob = contact();
    alice.fault({ type: 'ack-latency', ms: 400 });
    try {
      const started = Date.now();
      const id = await send(bob, { text: 'slow' });
      const next = await send(bob, { text: 'right behind' });
      // Delivered while the acks are still on their way, in order.
      await waitFor(() => bob.messages.some((m) => m.id === next), { what: 'the second message at the recipient' });
      expect(client.events.serverAcks.some((a) => a.id === id || a.id === next)).toBe(false);
      expect(bob.messages.findIndex((m) => m.id === id)).toBeLessThan(bob.messages.findIndex((m) => m.id === next));
      await waitFor(() => client.events.serverAcks.some((a) => a.id === next), { what: 'slow acks' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(380);
      expect(client.events.serverAcks.map((a) => a.id).filter((a) => a === id || a === next)).toEqual([id, next]);
    } finally {
      alice.fault({ type: 'clear' });
    }
  });

  it('issues one privacy token to a contact, however many sends to it overlap', async () => {
    const bob = contact();
    const before = alice.snapshot().counters.privacyTokensIssued;
    // Each send reads the stored token entry before the first issuance has written it.
    const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => send(bob, { text: `burst ${i}` })));
    await waitFor(() => ids.every((id) => client.events.serverAcks.some((a) => a.id === id)), { what: 'server acks of the burst' });
    const last = await send(bob, { text: 'after the burst' });
    await waitFor(() => client.events.serverAcks.some((a) => a.id === last), { what: 'server ack after the burst' });
    expect(bob.messages.filter((m) => ids.includes(m.id) || m.id === last)).toHaveLength(13);
    expect(alice.snapshot().counters.privacyTokensIssued - before).toBe(1);
  });

  it('handled every node the session sent without an internal error', () => {
    expect(alice.snapshot().counters.sendsAccepted).toBeGreaterThan(10);
    expect(emulator.nodeErrors).toEqual([]);
  });
});
