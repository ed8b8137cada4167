import { randomBytes } from 'node:crypto';
import { Curve, jidDecode, proto, type BinaryNode, type KeyPair } from '../baileys';
import { LinkedDevice, type CompanionRegistration } from '../accounts/linked-device';
import { PhoneAccount } from '../accounts/phone';
import type { PreKeyBundle } from '../accounts/signal-endpoint';
import type { RootAuthority } from '../identity/root-authority';
import { buildSignedDeviceIdentity, verifyDeviceSignature } from '../pairing/device-identity';
import { openKeyBundle, unwrapCompanionEphemeral, wrapPrimaryEphemeral } from '../pairing/link-code-crypto';
import { parseQr } from '../pairing/qr-code';
import type { CreatePhoneInput, Fault, PhoneOptions } from '../types';
import { DeviceConnection, type ConnectionHandlers } from './device-connection';
import { answerIq, type Directory } from './iq-responder';
import { MessageRouter } from './message-router';
import { bytes, child, children, iqResult, leaf, SERVER_JID, unixSeconds } from './nodes';
import type { WsSocket } from './ws-module';

const QR_REFS_PER_CONNECTION = 6;
const PAIRING_TIMEOUT_MS = 15_000;
const CODE_REQUEST_WAIT_MS = 2_000;

/** Errors the caller caused (bad input, unknown phone, nothing to act on): 4xx in the control API. */
export class EmulatorInputError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 422 = 400,
  ) {
    super(message);
  }
}

/** A companion that sent its registration payload and waits to be linked. */
interface PendingRegistration {
  connection: DeviceConnection;
  registration: Omit<CompanionRegistration, 'noiseKey' | 'identityKey'> & { noiseKey: Buffer; identityKey: Buffer };
  /** Set while a pairing code is being entered on the phone. */
  code?: { phoneNumber: string; wrappedCompanionEphemeral: Buffer; ref: string };
}

/** A pair-success that was sent and waits for the companion's `<pair-device-sign>`. */
interface PendingPair {
  phone: PhoneAccount;
  device: LinkedDevice;
  connection: DeviceConnection;
  resolve: (device: LinkedDevice) => void;
  reject: (error: Error) => void;
}

/** A code entered on the phone, waiting for the companion's `companion_finish`. */
interface PendingCode {
  phone: PhoneAccount;
  code: string;
  primaryEphemeral: KeyPair;
  pending: PendingRegistration;
  resolve: (device: LinkedDevice) => void;
  reject: (error: Error) => void;
}

/**
 * The emulated WhatsApp server: accounts, the connections of their linked
 * devices, login and linking, and the dispatch of every node a client sends.
 */
export class EmulatorCore implements ConnectionHandlers, Directory {
  readonly phones = new Map<string, PhoneAccount>();
  private readonly phonesByLid = new Map<string, PhoneAccount>();
  readonly connections = new Set<DeviceConnection>();
  private readonly registrations = new Map<DeviceConnection, PendingRegistration>();
  private readonly refs = new Map<string, DeviceConnection>();
  private readonly pendingPairs = new Map<string, PendingPair>();
  private readonly pendingCodes = new Map<string, PendingCode>();
  readonly router = new MessageRouter(this);
  /** Nodes the emulator failed to handle: a bug or an unsupported feature; exposed in /v1/stats. */
  readonly nodeErrors: Array<{ tag: string; xmlns?: string; error: string; at: string }> = [];

  constructor(private readonly authority: RootAuthority) {}

  accept(ws: WsSocket): void {
    this.connections.add(new DeviceConnection(ws, this.authority, this));
  }

  // ---- accounts -------------------------------------------------------

  createPhone(input: CreatePhoneInput): PhoneAccount {
    const digits = normalizeNumber(input.phoneNumber);
    if (this.phones.has(digits)) throw new EmulatorInputError(`phone ${digits} already exists`, 409);
    const { phoneNumber: _ignored, pushName, ...options } = input;
    const phone = new PhoneAccount(digits, pushName ?? `Phone ${digits.slice(-4)}`, options);
    this.phones.set(digits, phone);
    this.phonesByLid.set(phone.lidUser, phone);
    return phone;
  }

  requirePhone(phoneNumber: string): PhoneAccount {
    const phone = this.phones.get(String(phoneNumber).replace(/\D/g, ''));
    if (!phone) throw new EmulatorInputError(`unknown phone ${phoneNumber}`, 404);
    return phone;
  }

  findByPhoneNumber(digits: string): PhoneAccount | undefined {
    return this.phones.get(digits);
  }

  resolve(jid: string): { phone: PhoneAccount; deviceId: number } | undefined {
    const decoded = jidDecode(jid);
    if (!decoded?.user) return undefined;
    const phone = decoded.server === 'lid' ? this.phonesByLid.get(decoded.user) : this.phones.get(decoded.user);
    return phone ? { phone, deviceId: decoded.device ?? 0 } : undefined;
  }

  async bundleFor(phone: PhoneAccount, deviceId: number): Promise<PreKeyBundle | undefined> {
    if (deviceId === 0) return phone.signal.issueBundle();
    const device = phone.devices.get(deviceId);
    return device && !device.removed ? device.takeBundle() : undefined;
  }

  setOptions(phone: PhoneAccount, patch: Partial<PhoneOptions>): Promise<void> {
    phone.options = { ...phone.options, ...patch };
    return this.router.flushHeld(phone);
  }

  // ---- linking ------------------------------------------------------

  /** The phone scans a QR shown by a registering companion. Resolves once the companion signed its identity. */
  scanQr(phone: PhoneAccount, qr: string): Promise<LinkedDevice> {
    const parsed = parseQrOrThrow(qr);
    const connection = this.refs.get(parsed.ref);
    const pending = connection && this.registrations.get(connection);
    if (!connection || !pending || connection.closed) throw new EmulatorInputError('QR is unknown or expired', 404);
    if (!pending.registration.noiseKey.equals(parsed.noiseKey) || !pending.registration.identityKey.equals(parsed.identityKey)) {
      throw new EmulatorInputError('QR keys do not match the registering client', 422);
    }
    return this.sendPairSuccess(phone, pending, parsed.advSecret);
  }

  /** The phone enters the code a companion displayed after `requestPairingCode`. */
  async enterPairingCode(phone: PhoneAccount, code: string): Promise<LinkedDevice> {
    const normalized = String(code ?? '').replace(/[^0-9A-Za-z]/g, '').toUpperCase();
    if (normalized.length !== 8) throw new EmulatorInputError('pairing code must have 8 characters');
    const pending = await this.waitForCodeRequest(phone.phoneNumber);
    if (!pending?.code) throw new EmulatorInputError(`no client is waiting for a pairing code for ${phone.phoneNumber}`, 409);
    const companionEphemeral = await unwrapCompanionEphemeral(pending.code.wrappedCompanionEphemeral, normalized);
    const primaryEphemeral = Curve.generateKeyPair();
    const wrappedPrimary = await wrapPrimaryEphemeral(primaryEphemeral.public, normalized);
    const result = new Promise<LinkedDevice>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingCodes.delete(pending.code!.ref);
        reject(new EmulatorInputError('the client did not finish code pairing', 409));
      }, PAIRING_TIMEOUT_MS);
      this.pendingCodes.set(pending.code!.ref, {
        phone,
        code: normalized,
        primaryEphemeral,
        pending,
        resolve: (d) => (clearTimeout(timer), resolve(d)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
    // The companion checks nothing here: a wrong code only shows when its key bundle fails to open.
    void companionEphemeral;
    pending.connection.sendNode({
      tag: 'notification',
      attrs: { from: SERVER_JID, type: 'link_code_companion_reg', id: randomId(), t: unixSeconds() },
      content: [
        {
          tag: 'link_code_companion_reg',
          attrs: {},
          content: [
            leaf('link_code_pairing_ref', pending.code.ref),
            leaf('primary_identity_pub', phone.signal.identityPublicKey),
            leaf('link_code_pairing_wrapped_primary_ephemeral_pub', wrappedPrimary),
          ],
        },
      ],
    });
    return result;
  }

  /**
   * The client writes `companion_hello` without waiting for the server, so a
   * code typed right after it was shown may arrive first: wait a moment for it.
   */
  private async waitForCodeRequest(phoneNumber: string, timeoutMs = CODE_REQUEST_WAIT_MS): Promise<PendingRegistration | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pending = [...this.registrations.values()].find((r) => r.code?.phoneNumber === phoneNumber && !r.connection.closed);
      if (pending || Date.now() >= deadline) return pending;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private sendPairSuccess(phone: PhoneAccount, pending: PendingRegistration, advSecret: Buffer): Promise<LinkedDevice> {
    const deviceId = phone.allocateDeviceId();
    const keyIndex = deviceId;
    const device = new LinkedDevice(deviceId, { ...pending.registration }, keyIndex);
    const identity = buildSignedDeviceIdentity({
      accountIdentity: { public: phone.signal.identityPublicKey, private: phone.signal.identityPrivateKey },
      companionIdentityKey: pending.registration.identityKey,
      advSecret,
      keyIndex,
    });
    const id = randomId();
    const { connection } = pending;
    this.registrations.delete(connection);
    for (const ref of connection.pairingRefs) this.refs.delete(ref);
    const result = new Promise<LinkedDevice>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingPairs.delete(id);
        reject(new EmulatorInputError('the client did not confirm pairing', 409));
      }, PAIRING_TIMEOUT_MS);
      this.pendingPairs.set(id, {
        phone,
        device,
        connection,
        resolve: (d) => (clearTimeout(timer), resolve(d)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
    connection.sendNode({
      tag: 'iq',
      attrs: { from: SERVER_JID, type: 'set', xmlns: 'md', id, t: unixSeconds() },
      content: [
        {
          tag: 'pair-success',
          attrs: {},
          content: [
            leaf('device-identity', identity),
            { tag: 'platform', attrs: { name: 'android' } },
            { tag: 'device', attrs: { jid: phone.deviceJid(deviceId), lid: phone.lidDeviceJid(deviceId) } },
          ],
        },
      ],
    });
    return result;
  }

  // ---- connection handlers ------------------------------------------

  onClientPayload(connection: DeviceConnection, payload: proto.ClientPayload, clientNoiseKey: Buffer): void {
    if (payload.devicePairingData) {
      this.startRegistration(connection, payload.devicePairingData, clientNoiseKey);
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
    this.registrations.delete(connection);
    for (const ref of connection.pairingRefs) this.refs.delete(ref);
    const owner = this.ownerOf(connection);
    if (owner && owner.device.connection === connection) owner.device.connection = undefined;
  }

  private ownerOf(connection: DeviceConnection): { phone: PhoneAccount; device: LinkedDevice } | undefined {
    if (!connection.account) return undefined;
    const phone = this.phones.get(connection.account.phoneNumber);
    const device = phone?.devices.get(connection.account.deviceId);
    return phone && device ? { phone, device } : undefined;
  }

  private startRegistration(connection: DeviceConnection, data: proto.ClientPayload.IDevicePairingRegistrationData, noiseKey: Buffer): void {
    const signature = data.eSkeySig ? Buffer.from(data.eSkeySig) : undefined;
    const identityKey = data.eIdent ? Buffer.from(data.eIdent) : undefined;
    const signedPreKey = data.eSkeyVal ? Buffer.from(data.eSkeyVal) : undefined;
    if (!identityKey || !signedPreKey || !signature || !data.eRegid || !data.eSkeyId) {
      connection.failure(400);
      return;
    }
    this.registrations.set(connection, {
      connection,
      registration: {
        noiseKey,
        identityKey,
        registrationId: Buffer.from(data.eRegid).readUInt32BE(0),
        signedPreKey: { keyId: Buffer.from(data.eSkeyId).readUIntBE(0, data.eSkeyId.length), publicKey: signedPreKey, signature },
      },
    });
    connection.pairingRefs = Array.from({ length: QR_REFS_PER_CONNECTION }, () => `${randomBytes(12).toString('base64')}`);
    for (const ref of connection.pairingRefs) this.refs.set(ref, connection);
    connection.sendNode({
      tag: 'iq',
      attrs: { from: SERVER_JID, type: 'set', xmlns: 'md', id: randomId() },
      content: [{ tag: 'pair-device', attrs: {}, content: connection.pairingRefs.map((ref) => leaf('ref', ref)) }],
    });
  }

  private login(connection: DeviceConnection, payload: proto.ClientPayload, noiseKey: Buffer): void {
    const phone = payload.username ? this.phones.get(String(payload.username)) : undefined;
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
      this.onIqResult(connection, iq);
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
    connection.sendNode(await answerIq(iq, owner.device, this));
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

  private onIqResult(connection: DeviceConnection, iq: BinaryNode): void {
    const pair = this.pendingPairs.get(iq.attrs.id);
    if (!pair || pair.connection !== connection) return;
    this.pendingPairs.delete(iq.attrs.id);
    const signed = bytes(child(child(iq, 'pair-device-sign'), 'device-identity'));
    if (iq.attrs.type !== 'result' || !signed || !verifyDeviceSignature(signed, pair.device.registration.identityKey, pair.phone.signal.identityPublicKey)) {
      pair.reject(new EmulatorInputError('the client rejected pairing or signed its identity wrongly', 422));
      connection.failure(401);
      return;
    }
    pair.phone.devices.set(pair.device.deviceId, pair.device);
    pair.resolve(pair.device);
    // The client must reconnect and log in with its new identity.
    connection.streamError({ code: '515' });
  }

  private async onMdIq(connection: DeviceConnection, iq: BinaryNode, first: BinaryNode | undefined): Promise<void> {
    if (first?.tag === 'link_code_companion_reg') return this.onLinkCode(connection, iq, first);
    if (first?.tag === 'remove-companion-device') {
      const owner = this.ownerOf(connection);
      if (owner) owner.device.removed = true;
      connection.sendNode(iqResult(iq));
      return;
    }
    connection.sendNode(iqResult(iq));
  }

  private async onLinkCode(connection: DeviceConnection, iq: BinaryNode, reg: BinaryNode): Promise<void> {
    const pending = this.registrations.get(connection);
    if (reg.attrs.stage === 'companion_hello') {
      const wrapped = bytes(child(reg, 'link_code_pairing_wrapped_companion_ephemeral_pub'));
      const phoneNumber = jidDecode(reg.attrs.jid)?.user;
      if (!pending || !wrapped || !phoneNumber) {
        connection.sendNode({ tag: 'iq', attrs: { from: SERVER_JID, type: 'error', id: iq.attrs.id }, content: [{ tag: 'error', attrs: { code: '400', text: 'bad-request' } }] });
        return;
      }
      const ref = randomBytes(16).toString('hex');
      pending.code = { phoneNumber, wrappedCompanionEphemeral: wrapped, ref };
      connection.sendNode(iqResult(iq, [{ tag: 'link_code_companion_reg', attrs: {}, content: [leaf('link_code_pairing_ref', ref)] }]));
      return;
    }
    if (reg.attrs.stage === 'companion_finish') {
      const ref = bytes(child(reg, 'link_code_pairing_ref'))?.toString('utf8') ?? '';
      const code = this.pendingCodes.get(ref);
      const wrappedBundle = bytes(child(reg, 'link_code_pairing_wrapped_key_bundle'));
      connection.sendNode(iqResult(iq));
      if (!code || !wrappedBundle || !pending?.code) return;
      this.pendingCodes.delete(ref);
      try {
        const companionEphemeralPublic = await unwrapCompanionEphemeral(pending.code.wrappedCompanionEphemeral, code.code);
        const opened = openKeyBundle({
          wrappedBundle,
          primaryEphemeral: code.primaryEphemeral,
          companionEphemeralPublic,
          primaryIdentity: { public: code.phone.signal.identityPublicKey, private: code.phone.signal.identityPrivateKey },
        });
        if (!opened.companionIdentityKey.equals(pending.registration.identityKey)) throw new Error('identity mismatch');
        this.sendPairSuccess(code.phone, pending, opened.advSecret).then(code.resolve, code.reject);
      } catch {
        code.reject(new EmulatorInputError('pairing code does not match the one the client displayed', 422));
      }
    }
  }

  // ---- faults ---------------------------------------------------------

  applyFault(phone: PhoneAccount, fault: Fault): number {
    switch (fault.type) {
      case 'ack-error':
        phone.ackErrors = { code: String(fault.code ?? '479'), remaining: fault.count && fault.count > 0 ? fault.count : Infinity };
        return 0;
      case 'ack-latency':
        phone.options.ackLatencyMs = Math.max(0, Number(fault.ms) || 0);
        return 0;
      case 'clear':
        phone.ackErrors = undefined;
        phone.options.ackLatencyMs = 0;
        for (const d of phone.devices.values()) if (d.connection) d.connection.stalled = false;
        return 0;
    }
    const devices = phone.activeDevices().filter((d) => fault.deviceId === undefined || d.deviceId === fault.deviceId);
    if (fault.type === 'logout') {
      if (devices.length === 0) throw new EmulatorInputError(`phone ${phone.phoneNumber} has no linked device to log out`, 409);
      for (const d of devices) {
        d.removed = true;
        d.connection?.streamError({ code: '401' }, { tag: 'conflict', attrs: { type: 'device_removed' } });
      }
      return devices.length;
    }
    const connections = devices.map((d) => d.connection).filter((c): c is DeviceConnection => !!c && !c.closed);
    if (connections.length === 0) throw new EmulatorInputError(`phone ${phone.phoneNumber} has no connected linked device`, 409);
    for (const c of connections) {
      switch (fault.type) {
        case 'drop':
          c.drop();
          break;
        case 'conflict':
          c.streamError({}, { tag: 'conflict', attrs: { type: 'replaced' } });
          break;
        case 'restart-required':
          c.streamError({ code: '515' });
          break;
        case 'stream-error':
          if (fault.code === 500) c.streamError({}, { tag: 'internal-server-error', attrs: {} });
          else c.streamError({ code: String(fault.code ?? 503) });
          break;
        case 'failure':
          c.failure(fault.reason ?? 403);
          break;
        case 'stall':
          c.stalled = true;
          break;
      }
    }
    return connections.length;
  }

  close(): void {
    for (const connection of [...this.connections]) connection.drop();
    for (const pair of this.pendingPairs.values()) pair.reject(new Error('emulator closed'));
    for (const code of this.pendingCodes.values()) code.reject(new Error('emulator closed'));
    this.pendingPairs.clear();
    this.pendingCodes.clear();
    for (const phone of this.phones.values()) phone.signal.close();
  }
}

export function normalizeNumber(input: string): string {
  const digits = String(input ?? '').replace(/^\+/, '');
  if (!/^\d{6,15}$/.test(digits)) throw new EmulatorInputError('phoneNumber must be 6-15 digits, country code included');
  return digits;
}

function parseQrOrThrow(qr: string) {
  try {
    return parseQr(qr);
  } catch (error) {
    throw new EmulatorInputError((error as Error).message);
  }
}

function randomId(): string {
  return randomBytes(8).toString('hex');
}

