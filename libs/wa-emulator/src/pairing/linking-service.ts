import { randomBytes } from 'node:crypto';
import { Curve, jidDecode, proto, type BinaryNode, type KeyPair } from '../baileys';
import { LinkedDevice, type CompanionRegistration } from '../accounts/linked-device';
import type { PhoneAccount } from '../accounts/phone';
import { EmulatorInputError } from '../errors';
import type { DeviceConnection } from '../server/device-connection';
import { bytes, child, iqResult, leaf, SERVER_JID, unixSeconds } from '../server/nodes';
import { buildSignedDeviceIdentity, verifyDeviceSignature } from './device-identity';
import { openKeyBundle, unwrapCompanionEphemeral, wrapPrimaryEphemeral } from './link-code-crypto';
import { parseQr } from './qr-code';

const QR_REFS_PER_CONNECTION = 6;
const PAIRING_TIMEOUT_MS = 15_000;
const CODE_REQUEST_WAIT_MS = 2_000;

/** A companion that sent its registration payload and waits to be linked. */
interface PendingRegistration {
  connection: DeviceConnection;
  registration: CompanionRegistration;
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
 * Linking a new companion to a phone, by QR or by pairing code, up to the
 * companion's signed device identity; the 515 restart that follows makes the
 * client log in as the new device.
 */
export class LinkingService {
  private readonly registrations = new Map<DeviceConnection, PendingRegistration>();
  private readonly refs = new Map<string, DeviceConnection>();
  private readonly pendingPairs = new Map<string, PendingPair>();
  private readonly pendingCodes = new Map<string, PendingCode>();

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
    // Nothing can be checked yet: a wrong code only shows when the companion's key bundle fails to open.
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

  /** A client without credentials sent its registration payload: hand it QR refs. */
  startRegistration(connection: DeviceConnection, data: proto.ClientPayload.IDevicePairingRegistrationData, noiseKey: Buffer): void {
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

  /** Handles the result of our pair-success; false when the IQ result is not about linking. */
  onIqResult(connection: DeviceConnection, iq: BinaryNode): boolean {
    const pair = this.pendingPairs.get(iq.attrs.id);
    if (!pair || pair.connection !== connection) return false;
    this.pendingPairs.delete(iq.attrs.id);
    const signed = bytes(child(child(iq, 'pair-device-sign'), 'device-identity'));
    if (iq.attrs.type !== 'result' || !signed || !verifyDeviceSignature(signed, pair.device.registration.identityKey, pair.phone.signal.identityPublicKey)) {
      pair.reject(new EmulatorInputError('the client rejected pairing or signed its identity wrongly', 422));
      connection.failure(401);
      return true;
    }
    pair.phone.devices.set(pair.device.deviceId, pair.device);
    pair.resolve(pair.device);
    // The client must reconnect and log in with its new identity.
    connection.streamError({ code: '515' });
    return true;
  }

  /** `link_code_companion_reg` IQs: the companion asks for a code (hello) or finishes with its key bundle. */
  async onLinkCode(connection: DeviceConnection, iq: BinaryNode, reg: BinaryNode): Promise<void> {
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

  /** The connection went away: its QR refs and pending registration expire. */
  forget(connection: DeviceConnection): void {
    this.registrations.delete(connection);
    for (const ref of connection.pairingRefs) this.refs.delete(ref);
  }

  close(): void {
    for (const pair of this.pendingPairs.values()) pair.reject(new Error('emulator closed'));
    for (const code of this.pendingCodes.values()) code.reject(new Error('emulator closed'));
    this.pendingPairs.clear();
    this.pendingCodes.clear();
  }
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
