import { proto } from './baileys';
import type { PhoneAccount } from './accounts/phone';
import { EmulatorInputError } from './errors';
import { encryptMedia, type MediaKind } from './media/media-encryption';
import type { EmulatorCore } from './server/emulator-core';
import type { Fault, PhoneOptions, PhoneSnapshot, ReceivedMessage } from './types';

/** What a phone can send: a text, or any WhatsApp message content as a proto object. */
export type OutgoingContent = string | proto.IMessage;

/** A file a phone sends (`sendMedia`). */
export interface OutgoingMedia {
  type: MediaKind;
  data: Buffer;
  mimetype: string;
  caption?: string;
  fileName?: string;
  /** Audio only: a voice note. */
  ptt?: boolean;
}

/**
 * The handle tests hold for one simulated account: link gateway sessions to
 * it, send from it, read what it received, switch its behaviour and break its
 * linked devices' connections.
 */
export class SimulatedPhone {
  constructor(
    private readonly account: PhoneAccount,
    private readonly core: EmulatorCore,
  ) {}

  get phoneNumber(): string {
    return this.account.phoneNumber;
  }

  /** `5511...@s.whatsapp.net` */
  get jid(): string {
    return this.account.jid;
  }

  /** `...@lid` */
  get lid(): string {
    return this.account.lid;
  }

  /** The phone scans a gateway's QR; resolves when the companion confirmed (it then restarts with 515). */
  async scanQr(qr: string): Promise<{ deviceId: number; jid: string }> {
    const device = await this.core.linking.scanQr(this.account, qr);
    return { deviceId: device.deviceId, jid: this.account.deviceJid(device.deviceId) };
  }

  /** The phone enters the pairing code a gateway obtained with `requestPairingCode`. */
  async enterPairingCode(code: string): Promise<{ deviceId: number; jid: string }> {
    const device = await this.core.linking.enterPairingCode(this.account, code);
    return { deviceId: device.deviceId, jid: this.account.deviceJid(device.deviceId) };
  }

  /** Sends a text (or any message content) to another account; its linked devices get it now or at their next login. */
  async send(to: string, content: OutgoingContent, options: { id?: string } = {}): Promise<string> {
    const target = this.core.directory.resolve(to.includes('@') ? to : `${to.replace(/\D/g, '')}@s.whatsapp.net`);
    if (!target) throw new EmulatorInputError(`unknown recipient ${to}`, 404);
    const message: proto.IMessage = typeof content === 'string' ? { conversation: content } : content;
    return this.core.router.fromPhone(this.account, target.phone, message, options.id);
  }

  sendText(to: string, text: string, options: { id?: string } = {}): Promise<string> {
    return this.send(to, text, options);
  }

  /**
   * Sends a file as WhatsApp clients do: encrypted with a fresh media key,
   * stored on the emulator's media host, and referenced by the message
   * (url, direct path, key and hashes), so the recipient can download it.
   */
  async sendMedia(to: string, media: OutgoingMedia, options: { id?: string } = {}): Promise<string> {
    const host = this.core.media;
    if (!host) throw new EmulatorInputError('this emulator has no media host', 409);
    const encrypted = await encryptMedia(media.data, media.type);
    const { url, directPath } = host.store(media.type, encrypted.file);
    const common = {
      url,
      directPath,
      mediaKey: encrypted.mediaKey,
      mimetype: media.mimetype,
      fileSha256: encrypted.fileSha256,
      fileEncSha256: encrypted.fileEncSha256,
      fileLength: media.data.length,
      mediaKeyTimestamp: Math.floor(Date.now() / 1000),
    };
    const message: proto.IMessage =
      media.type === 'image'
        ? { imageMessage: { ...common, caption: media.caption } }
        : media.type === 'video'
          ? { videoMessage: { ...common, caption: media.caption } }
          : media.type === 'audio'
            ? { audioMessage: { ...common, ptt: media.ptt ?? false } }
            : media.type === 'sticker'
              ? { stickerMessage: common }
              : { documentMessage: { ...common, fileName: media.fileName ?? 'document', caption: media.caption } };
    return this.send(to, message, options);
  }

  /** Messages this account received, decrypted, oldest first. */
  get messages(): readonly ReceivedMessage[] {
    return this.account.received;
  }

  /** Same message id re-sent by the same sender: stored once, counted here. */
  get duplicates(): number {
    return this.account.duplicates;
  }

  get decryptFailures(): number {
    return this.account.decryptFailures;
  }

  /** Receipts gateway sessions sent for messages this account sent. */
  get receipts(): readonly { id: string; from: string; type: string }[] {
    return this.account.receiptsReceived;
  }

  get options(): Readonly<PhoneOptions> {
    return this.account.options;
  }

  /** Changes behaviour; going back online processes what was held meanwhile. */
  setOptions(patch: Partial<PhoneOptions>): Promise<void> {
    return this.core.setOptions(this.account, patch);
  }

  /** Injects a fault; returns how many connections it acted on. */
  fault(fault: Fault): number {
    return this.core.applyFault(this.account, fault);
  }

  /** Linked devices with a connection that finished login. */
  get connectedDevices(): number[] {
    return this.account.activeDevices().filter((d) => d.online).map((d) => d.deviceId);
  }

  snapshot(): PhoneSnapshot {
    return this.account.snapshot();
  }
}
