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
/**
 * One-time prekeys kept compactly: a companion uploads hundreds at a time and
 * the emulator holds many companions, so ids and 32-byte keys live in two flat
 * arrays instead of one object per key. Bundles take them oldest first.
 */
class PreKeyPool {
  private ids = new Uint32Array(0);
  private keys = Buffer.alloc(0);
  private next = 0;

  get size(): number {
    return this.ids.length - this.next;
  }

  add(entries: Array<{ id: number; publicKey: Buffer }>): void {
    const valid = entries.filter((e) => e.publicKey.length === 32);
    if (valid.length === 0) return;
    const remaining = this.size;
    const ids = new Uint32Array(remaining + valid.length);
    ids.set(this.ids.subarray(this.next));
    const keys = Buffer.alloc((remaining + valid.length) * 32);
    this.keys.copy(keys, 0, this.next * 32);
    valid.forEach((e, i) => {
      ids[remaining + i] = e.id;
      e.publicKey.copy(keys, (remaining + i) * 32);
    });
    this.ids = ids;
    this.keys = keys;
    this.next = 0;
  }

  take(): { keyId: number; publicKey: Buffer } | undefined {
    if (this.next >= this.ids.length) return undefined;
    const i = this.next++;
    return { keyId: this.ids[i], publicKey: Buffer.from(this.keys.subarray(i * 32, i * 32 + 32)) };
  }
}

/**
 * A gateway session linked to a simulated account as a companion device. It
 * outlives its connections: prekeys, the offline queue and whether history
 * was already bootstrapped stay here between logins.
 */
export class LinkedDevice {
  /** One-time prekeys uploaded by the companion, consumed by bundle fetches. */
  readonly preKeys = new PreKeyPool();
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
    this.preKeys.add(upload.preKeys);
  }

  /** A bundle for a new session; takes (and removes) one one-time prekey when any is left. */
  takeBundle(): PreKeyBundle {
    return {
      registrationId: this.registration.registrationId,
      identityKey: this.registration.identityKey,
      signedPreKey: this.registration.signedPreKey,
      preKey: this.preKeys.take(),
    };
  }

  get online(): boolean {
    return !!this.connection?.ready;
  }
}
