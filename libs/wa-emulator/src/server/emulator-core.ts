import type { BinaryNode, proto } from '../baileys';
import type { LinkedDevice } from '../accounts/linked-device';
import type { PhoneAccount } from '../accounts/phone';
import { PhoneDirectory } from '../accounts/phone-directory';
import type { RootAuthority } from '../identity/root-authority';
import { LinkingService } from '../pairing/linking-service';
import type { Fault, PhoneOptions } from '../types';
import { DeviceConnection, type ConnectionHandlers } from './device-connection';
import { applyFault } from './fault-injector';
import { answerIq } from './iq-responder';
import type { MediaHost } from '../media/media-host';
import { MessageRouter } from './message-router';
import { child, children, childrenByTag, iqResult, unixSeconds } from './nodes';
import type { WsSocket } from './ws-module';

/**
 * The emulated WhatsApp server: it accepts client connections, logs devices
 * in, and dispatches every node a client sends to linking, the IQ answers or
 * the message router.
 */
export class EmulatorCore implements ConnectionHandlers {
  readonly directory = new PhoneDirectory();
  readonly linking = new LinkingService();
  readonly router = new MessageRouter(this.directory);
  readonly connections = new Set<DeviceConnection>();
  /** Nodes the emulator failed to handle: a bug or an unsupported feature; exposed in /v1/stats. */
  readonly nodeErrors: Array<{ tag: string; xmlns?: string; error: string; at: string }> = [];

  /** The media host; unset: media uploads are not offered (`media_conn` gets an empty answer). */
  media?: MediaHost;

  constructor(private readonly authority: RootAuthority) {}

  accept(ws: WsSocket): void {
    this.connections.add(new DeviceConnection(ws, this.authority, this));
  }

  setOptions(phone: PhoneAccount, patch: Partial<PhoneOptions>): Promise<void> {
    phone.options = { ...phone.options, ...patch };
    return this.router.flushHeld(phone);
  }

  applyFault(phone: PhoneAccount, fault: Fault): number {
    return applyFault(phone, fault);
  }

  // ---- connection handlers ------------------------------------------

  onClientPayload(connection: DeviceConnection, payload: proto.ClientPayload, clientNoiseKey: Buffer): void {
    if (payload.devicePairingData) {
      this.linking.startRegistration(connection, payload.devicePairingData, clientNoiseKey);
      return;
    }
    this.login(connection, payload, clientNoiseKey);
  }

  async onNode(connection: DeviceConnection, node: BinaryNode): Promise<void> {
    if (node.tag === 'iq') return this.onIq(connection, node);
    const owner = this.ownerOf(connection);
    if (!owner) return;
    if (node.tag === 'message') return this.router.fromLinkedDevice(owner.phone, owner.device, node);
    if (node.tag === 'receipt') return this.router.receiptFromLinkedDevice(owner.phone, owner.device, node);
    // acks, presence, chatstate and telemetry need no answer
  }

  onNodeError(_connection: DeviceConnection, node: BinaryNode, error: unknown): void {
    if (this.nodeErrors.length >= 100) this.nodeErrors.shift();
    this.nodeErrors.push({ tag: node.tag, xmlns: node.attrs.xmlns, error: (error as Error)?.message ?? String(error), at: new Date().toISOString() });
  }

  onClose(connection: DeviceConnection): void {
    this.connections.delete(connection);
    this.linking.forget(connection);
    const owner = this.ownerOf(connection);
    if (owner && owner.device.connection === connection) owner.device.connection = undefined;
  }

  private ownerOf(connection: DeviceConnection): { phone: PhoneAccount; device: LinkedDevice } | undefined {
    if (!connection.account) return undefined;
    const phone = this.directory.findByPhoneNumber(connection.account.phoneNumber);
    const device = phone?.devices.get(connection.account.deviceId);
    return phone && device ? { phone, device } : undefined;
  }

  private login(connection: DeviceConnection, payload: proto.ClientPayload, noiseKey: Buffer): void {
    const phone = payload.username ? this.directory.findByPhoneNumber(String(payload.username)) : undefined;
    const device = phone?.devices.get(payload.device ?? 0);
    if (!phone || !device || device.removed || !device.registration.noiseKey.equals(noiseKey)) {
      connection.streamError({ code: '401' }, { tag: 'conflict', attrs: { type: 'device_removed' } });
      return;
    }
    const previous = device.connection;
    if (previous && !previous.closed) {
      device.connection = undefined;
      previous.streamError({}, { tag: 'conflict', attrs: { type: 'replaced' } });
    }
    connection.account = { phoneNumber: phone.phoneNumber, deviceId: device.deviceId };
    device.connection = connection;
    connection.sendNode({
      tag: 'success',
      attrs: { t: unixSeconds(), props: '1', abprops: '1', location: 'emu', lid: phone.lidDeviceJid(device.deviceId), creation: unixSeconds() },
    });
  }

  private async onIq(connection: DeviceConnection, iq: BinaryNode): Promise<void> {
    if (iq.attrs.type === 'result' || iq.attrs.type === 'error') {
      this.linking.onIqResult(connection, iq);
      return;
    }
    const first = children(iq)[0];
    if (iq.attrs.xmlns === 'md') return this.onMdIq(connection, iq, first);
    if (iq.attrs.xmlns === 'w:p' || first?.tag === 'ping') {
      connection.sendNode(iqResult(iq));
      return;
    }
    const owner = this.ownerOf(connection);
    if (!owner) {
      connection.sendNode(iqResult(iq));
      return;
    }
    if (iq.attrs.xmlns === 'passive' && first?.tag === 'active') {
      connection.sendNode(iqResult(iq));
      await this.goOnline(owner.phone, owner.device, connection);
      return;
    }
    // Trusted-contact tokens the account's devices issued: WhatsApp expects one per contact per period, not one per message.
    if (iq.attrs.xmlns === 'privacy' && iq.attrs.type === 'set') owner.phone.counters.privacyTokensIssued += childrenByTag(child(iq, 'tokens'), 'token').length;
    connection.sendNode(await answerIq(iq, owner.device, this.directory, this.media?.mediaConn));
  }

  /** Delivers what was queued while the device was away, then tells the client the backlog is done. */
  private async goOnline(phone: PhoneAccount, device: LinkedDevice, connection: DeviceConnection): Promise<void> {
    if (connection.ready) return;
    const backlog = device.offlineQueue.splice(0);
    for (const stanza of backlog) connection.sendNode({ ...stanza, attrs: { ...stanza.attrs, offline: '1' } });
    connection.sendNode({ tag: 'ib', attrs: {}, content: [{ tag: 'offline', attrs: { count: String(backlog.length) } }] });
    connection.ready = true;
    await this.router.bootstrapHistory(phone, device);
  }

  private async onMdIq(connection: DeviceConnection, iq: BinaryNode, first: BinaryNode | undefined): Promise<void> {
    if (first?.tag === 'link_code_companion_reg') return this.linking.onLinkCode(connection, iq, first);
    if (first?.tag === 'remove-companion-device') {
      const owner = this.ownerOf(connection);
      if (owner) owner.device.removed = true;
      connection.sendNode(iqResult(iq));
      return;
    }
    connection.sendNode(iqResult(iq));
  }

  close(): void {
    for (const connection of [...this.connections]) connection.drop();
    this.linking.close();
    for (const phone of this.directory.all()) phone.signal.close();
  }
}
