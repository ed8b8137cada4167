import type { BinaryNode } from '../baileys';
import type { PreKeyBundle } from './signal-endpoint';
import type { DeviceConnection } from '../server/device-connection';

/** What the companion published at registration (ClientPayload.devicePairingData). */
export interface CompanionRegistration {
  noiseKey: Buffer;
  identityKey: Buffer;
  registrationId: number;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
}

/**
 * A gateway session linked to a simulated account as a companion device. It
 * outlives its connections: prekeys, the offline queue and whether history
 * was already bootstrapped stay here between logins.
 */
export class LinkedDevice {
  /** One-time prekeys uploaded by the companion, consumed by bundle fetches. */
  readonly preKeys = new Map<number, Buffer>();
  /** Stanzas for this device while it is not connected, delivered with offline='1' at the next login. */
  readonly offlineQueue: BinaryNode[] = [];
  connection: DeviceConnection | undefined;
  historyBootstrapped = false;
  removed = false;

  constructor(
    readonly deviceId: number,
    readonly registration: CompanionRegistration,
    readonly keyIndex: number,
  ) {}

  /** Replaces the keys the client uploads after login (`encrypt` set). */
  storeUpload(upload: { registrationId?: number; identityKey?: Buffer; signedPreKey?: CompanionRegistration['signedPreKey']; preKeys: Array<{ id: number; publicKey: Buffer }> }): void {
    if (upload.registrationId !== undefined) this.registration.registrationId = upload.registrationId;
    if (upload.identityKey) this.registration.identityKey = upload.identityKey;
    if (upload.signedPreKey) this.registration.signedPreKey = upload.signedPreKey;
    for (const key of upload.preKeys) this.preKeys.set(key.id, key.publicKey);
  }

  /** A bundle for a new session; takes (and removes) one one-time prekey when any is left. */
  takeBundle(): PreKeyBundle {
    const first = this.preKeys.entries().next();
    let preKey: PreKeyBundle['preKey'];
    if (!first.done) {
      const [keyId, publicKey] = first.value;
      this.preKeys.delete(keyId);
      preKey = { keyId, publicKey };
    }
    return {
      registrationId: this.registration.registrationId,
      identityKey: this.registration.identityKey,
      signedPreKey: this.registration.signedPreKey,
      preKey,
    };
  }

  get online(): boolean {
    return !!this.connection?.ready;
  }
}
