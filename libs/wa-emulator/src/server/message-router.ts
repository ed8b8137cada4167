import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { proto, type BinaryNode } from '../baileys';
import type { LinkedDevice } from '../accounts/linked-device';
import type { PhoneAccount } from '../accounts/phone';
import { summarizeMessage } from '../messages/message-summary';
import type { ReceivedMessage } from '../types';
import { bytes, child, childrenByTag, unixSeconds } from './nodes';

export interface Resolver {
  resolve(jid: string): { phone: PhoneAccount; deviceId: number } | undefined;
}

export function newMessageId(): string {
  return '3EB0' + randomBytes(10).toString('hex').toUpperCase();
}

/**
 * Moves messages and receipts between devices: decrypts the copies addressed
 * to simulated primary devices, relays the copies addressed to linked
 * companions (now, or queued for their next login), and answers with server
 * acks and receipts the way WhatsApp does.
 */
export class MessageRouter {
  constructor(private readonly directory: Resolver) {}

  /** A `<message>` written by a linked device. */
  async fromLinkedDevice(sender: PhoneAccount, device: LinkedDevice, node: BinaryNode): Promise<void> {
    const id = node.attrs.id;
    const to = node.attrs.to;
    const ack = (error?: string) => {
      const attrs: Record<string, string> = { class: 'message', id, from: to, t: unixSeconds() };
      if (error) attrs.error = error;
      device.connection?.sendNode({ tag: 'ack', attrs });
    };
    const participants = childrenByTag(child(node, 'participants'), 'to');
    if (node.attrs.category === 'peer' || participants.length === 0) {
      ack();
      return;
    }
    if (!sender.admitSend()) {
      sender.counters.sendsRejected++;
      ack(sender.options.sendRateLimit?.errorCode ?? '429');
      return;
    }
    const injected = sender.takeAckError();
    if (injected) {
      sender.counters.sendsRejected++;
      afterAckLatency(sender, () => ack(injected));
      return;
    }
    sender.counters.sendsAccepted++;
    const deliveries: Array<() => Promise<void>> = [];
    for (const participant of participants) {
      const target = this.directory.resolve(participant.attrs.jid);
      const enc = child(participant, 'enc');
      const ciphertext = bytes(enc);
      if (!target || !enc || !ciphertext) continue;
      const type = enc.attrs.type as 'pkmsg' | 'msg';
      if (target.deviceId === 0) {
        deliveries.push(() => this.toPrimary(target.phone, sender, device, { id, type, ciphertext }));
      } else {
        const recipientDevice = target.phone.devices.get(target.deviceId);
        if (!recipientDevice || recipientDevice.removed || recipientDevice === device) continue;
        const attrs: Record<string, string> = {
          from: sender.deviceJid(device.deviceId),
          sender_lid: sender.lidDeviceJid(device.deviceId),
          id,
          t: unixSeconds(),
          type: node.attrs.type ?? 'text',
          notify: sender.pushName,
        };
        if (target.phone === sender) attrs.recipient = to;
        this.deliverToDevice(recipientDevice, { tag: 'message', attrs, content: [{ tag: 'enc', attrs: { ...enc.attrs }, content: ciphertext }] });
      }
    }
    afterAckLatency(sender, () => ack());
    for (const deliver of deliveries) await deliver();
  }

  /** A `<receipt>` written by a linked device about messages it received. */
  receiptFromLinkedDevice(reader: PhoneAccount, device: LinkedDevice, node: BinaryNode): void {
    // 'inactive' is a delivery receipt from a client that is not marked online.
    const type = node.attrs.type === 'inactive' ? undefined : node.attrs.type;
    if (type && type !== 'read' && type !== 'played') return;
    const target = node.attrs.to ? this.directory.resolve(node.attrs.to) : undefined;
    if (!target || target.phone === reader) return;
    const attrs: Record<string, string> = { from: reader.jid, id: node.attrs.id, t: unixSeconds() };
    if (type) attrs.type = type;
    const list = child(node, 'list');
    const receipt: BinaryNode = { tag: 'receipt', attrs, content: list ? [list] : undefined };
    for (const other of target.phone.activeDevices()) if (other !== device) this.deliverToDevice(other, receipt);
    const ids = [node.attrs.id, ...childrenByTag(list, 'item').map((i) => i.attrs.id)];
    target.phone.receiptsReceived.push(...ids.map((id) => ({ id, from: reader.jid, type: type ?? 'delivery' })));
  }

  /** A simulated account sends a message to every linked device of the recipient. */
  async fromPhone(sender: PhoneAccount, recipient: PhoneAccount, message: proto.IMessage, id = newMessageId()): Promise<string> {
    sender.counters.messagesSent++;
    if (recipient !== sender) {
      // The recipient's own (simulated) primary device receives it as well.
      recipient.store(this.received(sender, sender.jid, id, message, summarizeMessage(message)));
    }
    for (const device of recipient.activeDevices()) {
      await this.encryptAndDeliver(sender, recipient, device, message, id, { type: messageTypeAttr(message) });
    }
    if (recipient !== sender) {
      // The sender's own linked devices see what was typed on the phone, as fromMe messages in that chat.
      const mirrored: proto.IMessage = { deviceSentMessage: { destinationJid: recipient.jid, message } };
      for (const device of sender.activeDevices()) {
        await this.encryptAndDeliver(sender, sender, device, mirrored, id, { type: messageTypeAttr(message), recipient: recipient.jid });
      }
    }
    return id;
  }

  /** The phone's history bootstrap for a companion that never had one, so the first login does not wait 20 s. */
  async bootstrapHistory(phone: PhoneAccount, device: LinkedDevice): Promise<void> {
    if (device.historyBootstrapped) return;
    device.historyBootstrapped = true;
    const history = proto.HistorySync.encode({ syncType: proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP, conversations: [], progress: 100 }).finish();
    const message: proto.IMessage = {
      protocolMessage: {
        type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
        historySyncNotification: {
          syncType: proto.Message.HistorySyncType.INITIAL_BOOTSTRAP,
          initialHistBootstrapInlinePayload: deflateSync(history),
          progress: 100,
          chunkOrder: 0,
        },
      },
    };
    await this.encryptAndDeliver(phone, phone, device, message, newMessageId(), { type: 'text' });
  }

  /** Processes what a phone held while it was offline. */
  async flushHeld(phone: PhoneAccount): Promise<void> {
    while (phone.options.online && phone.heldWhileOffline.length) {
      const next = phone.heldWhileOffline.shift();
      await next?.process();
    }
  }

  /** Sends a stanza to a device now, or queues it for its next login. */
  deliverToDevice(device: LinkedDevice, stanza: BinaryNode): void {
    if (device.online && device.connection) device.connection.sendNode(stanza);
    else device.offlineQueue.push(stanza);
  }

  private async encryptAndDeliver(
    sender: PhoneAccount,
    recipient: PhoneAccount,
    device: LinkedDevice,
    message: proto.IMessage,
    id: string,
    extra: { type: string; recipient?: string },
  ): Promise<void> {
    const peer = recipient.lidDeviceJid(device.deviceId);
    const { type, ciphertext } = await sender.signal.encrypt(peer, message, () => device.takeBundle());
    const attrs: Record<string, string> = {
      from: sender.jid,
      sender_lid: sender.lid,
      id,
      t: unixSeconds(),
      type: extra.type,
      notify: sender.pushName,
    };
    if (extra.recipient) attrs.recipient = extra.recipient;
    this.deliverToDevice(device, { tag: 'message', attrs, content: [{ tag: 'enc', attrs: { v: '2', type }, content: ciphertext }] });
  }

  private async toPrimary(
    recipient: PhoneAccount,
    sender: PhoneAccount,
    device: LinkedDevice,
    copy: { id: string; type: 'pkmsg' | 'msg'; ciphertext: Buffer },
  ): Promise<void> {
    const process = async () => {
      let message: proto.Message;
      try {
        message = await recipient.signal.decrypt(sender.lidDeviceJid(device.deviceId), copy.type, copy.ciphertext);
      } catch {
        recipient.decryptFailures++;
        return;
      }
      // The sender's own phone gets a copy of everything its companions send; it is not an incoming message.
      if (recipient === sender) return;
      recipient.store(this.received(sender, sender.deviceJid(device.deviceId), copy.id, message, summarizeMessage(message)));
      this.sendReceipts(recipient, sender, device, copy.id);
    };
    if (recipient.options.online) await process();
    else recipient.heldWhileOffline.push({ process });
  }

  private sendReceipts(recipient: PhoneAccount, sender: PhoneAccount, device: LinkedDevice, id: string): void {
    const types: Array<string | undefined> = [];
    if (recipient.options.autoDeliveryReceipt) types.push(undefined);
    if (recipient.options.autoReadReceipt) types.push('read');
    for (const type of types) {
      const attrs: Record<string, string> = { from: recipient.jid, id, t: unixSeconds() };
      if (type) attrs.type = type;
      recipient.counters.receiptsSent++;
      this.deliverToDevice(device, { tag: 'receipt', attrs });
    }
  }

  private received(sender: PhoneAccount, fromDevice: string, id: string, message: proto.IMessage, summary: { type: string; text?: string }): ReceivedMessage {
    return {
      id,
      from: sender.jid,
      fromDevice,
      type: summary.type,
      text: summary.text,
      receivedAt: new Date().toISOString(),
      content: proto.Message.toObject(proto.Message.fromObject(message), { longs: Number, bytes: String, defaults: false }) as Record<string, unknown>,
    };
  }
}

function messageTypeAttr(message: proto.IMessage): string {
  if (message.reactionMessage) return 'reaction';
  if (message.pollCreationMessage || message.pollCreationMessageV3 || message.pollUpdateMessage) return 'poll';
  return 'text';
}

/**
 * Sends an ack now, or after the account's ack latency without holding up
 * the connection's next frames: WhatsApp's server keeps taking a client's
 * messages (and delivering them) while earlier acks are on their way.
 */
function afterAckLatency(sender: PhoneAccount, sendAck: () => void): void {
  if (sender.options.ackLatencyMs > 0) setTimeout(sendAck, sender.options.ackLatencyMs);
  else sendAck();
}
