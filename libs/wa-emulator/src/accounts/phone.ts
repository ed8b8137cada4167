import { randomInt } from 'node:crypto';
import { LinkedDevice } from './linked-device';
import { SignalEndpoint } from './signal-endpoint';
import type { PhoneOptions, PhoneSnapshot, ReceivedMessage } from '../types';

export const DEFAULT_PHONE_OPTIONS: PhoneOptions = {
  autoDeliveryReceipt: true,
  autoReadReceipt: false,
  online: true,
  ackLatencyMs: 0,
  sendRateLimit: null,
};

/** A message that reached an offline phone; processed (stored, receipted) when it comes online. */
export interface HeldDelivery {
  process: () => Promise<void>;
}

/**
 * The state of one simulated WhatsApp account: its identity (phone number,
 * LID, Signal keys of the primary device), its linked companion devices, what
 * it received and the counters tests assert on. Routing lives elsewhere.
 */
export class PhoneAccount {
  readonly lidUser: string;
  readonly signal = new SignalEndpoint();
  readonly devices = new Map<number, LinkedDevice>();
  readonly received: ReceivedMessage[] = [];
  readonly heldWhileOffline: HeldDelivery[] = [];
  options: PhoneOptions;
  duplicates = 0;
  /** Copies addressed to this phone that it could not decrypt (should stay 0). */
  decryptFailures = 0;
  /** Receipts the gateway sessions sent back for messages this account sent. */
  readonly receiptsReceived: Array<{ id: string; from: string; type: string }> = [];
  ackErrors: { code: string; remaining: number } | undefined;
  readonly counters = { sendsAccepted: 0, sendsRejected: 0, receiptsSent: 0, messagesSent: 0, privacyTokensIssued: 0 };
  private readonly seenMessageKeys = new Set<string>();
  private recentSends: number[] = [];
  private nextDeviceId = 1;

  constructor(
    readonly phoneNumber: string,
    public pushName: string,
    options: Partial<PhoneOptions> = {},
  ) {
    this.lidUser = String(randomInt(100_000_000, 999_999_999)) + String(randomInt(100_000, 999_999));
    this.options = { ...DEFAULT_PHONE_OPTIONS, ...options };
  }

  get jid(): string {
    return `${this.phoneNumber}@s.whatsapp.net`;
  }

  get lid(): string {
    return `${this.lidUser}@lid`;
  }

  deviceJid(deviceId: number): string {
    return deviceId === 0 ? this.jid : `${this.phoneNumber}:${deviceId}@s.whatsapp.net`;
  }

  lidDeviceJid(deviceId: number): string {
    return deviceId === 0 ? this.lid : `${this.lidUser}:${deviceId}@lid`;
  }

  allocateDeviceId(): number {
    return this.nextDeviceId++;
  }

  /** Linked devices that were not removed, by id. */
  activeDevices(): LinkedDevice[] {
    return [...this.devices.values()].filter((d) => !d.removed);
  }

  /**
   * Records a received message once per (sender, id). A re-send with the same
   * id by the same sender counts as a duplicate and is not stored again.
   */
  store(message: ReceivedMessage): boolean {
    const key = `${message.from}|${message.id}`;
    if (this.seenMessageKeys.has(key)) {
      this.duplicates++;
      return false;
    }
    this.seenMessageKeys.add(key);
    this.received.push(message);
    return true;
  }

  /** Applies the send-rate limit: true when this send is within the limit. */
  admitSend(now = Date.now()): boolean {
    const limit = this.options.sendRateLimit;
    if (!limit) return true;
    this.recentSends = this.recentSends.filter((t) => now - t < limit.windowMs);
    if (this.recentSends.length >= limit.max) return false;
    this.recentSends.push(now);
    return true;
  }

  /** The error code of the next injected error ack, consuming one when counted. */
  takeAckError(): string | undefined {
    if (!this.ackErrors) return undefined;
    const { code } = this.ackErrors;
    if (Number.isFinite(this.ackErrors.remaining)) {
      this.ackErrors.remaining--;
      if (this.ackErrors.remaining <= 0) this.ackErrors = undefined;
    }
    return code;
  }

  snapshot(): PhoneSnapshot {
    return {
      phoneNumber: this.phoneNumber,
      jid: this.jid,
      lid: this.lid,
      pushName: this.pushName,
      options: { ...this.options },
      received: this.received.length,
      duplicates: this.duplicates,
      pendingWhileOffline: this.heldWhileOffline.length,
      linkedDevices: this.activeDevices().map((d) => ({
        deviceId: d.deviceId,
        jid: this.deviceJid(d.deviceId),
        connected: d.online,
        queued: d.offlineQueue.length,
      })),
      counters: { ...this.counters },
    };
  }
}
