import { jidDecode } from '../baileys';
import { EmulatorInputError } from '../errors';
import type { CreatePhoneInput } from '../types';
import { PhoneAccount } from './phone';
import type { PreKeyBundle } from './signal-endpoint';

/** Every simulated account, findable by phone number, PN JID or LID JID. */
export class PhoneDirectory {
  private readonly byNumber = new Map<string, PhoneAccount>();
  private readonly byLid = new Map<string, PhoneAccount>();

  create(input: CreatePhoneInput): PhoneAccount {
    const digits = normalizeNumber(input.phoneNumber);
    if (this.byNumber.has(digits)) throw new EmulatorInputError(`phone ${digits} already exists`, 409);
    const { phoneNumber: _number, pushName, ...options } = input;
    const phone = new PhoneAccount(digits, pushName ?? `Phone ${digits.slice(-4)}`, options);
    this.byNumber.set(digits, phone);
    this.byLid.set(phone.lidUser, phone);
    return phone;
  }

  require(phoneNumber: string): PhoneAccount {
    const phone = this.byNumber.get(String(phoneNumber).replace(/\D/g, ''));
    if (!phone) throw new EmulatorInputError(`unknown phone ${phoneNumber}`, 404);
    return phone;
  }

  findByPhoneNumber(digits: string): PhoneAccount | undefined {
    return this.byNumber.get(digits);
  }

  /** `N@s.whatsapp.net`, `N:d@s.whatsapp.net`, `L@lid`, `L:d@lid` -> the account and device id. */
  resolve(jid: string): { phone: PhoneAccount; deviceId: number } | undefined {
    const decoded = jidDecode(jid);
    if (!decoded?.user) return undefined;
    const phone = decoded.server === 'lid' ? this.byLid.get(decoded.user) : this.byNumber.get(decoded.user);
    return phone ? { phone, deviceId: decoded.device ?? 0 } : undefined;
  }

  /** A prekey bundle for a device: generated for a simulated primary, taken from the uploads for a companion. */
  async bundleFor(phone: PhoneAccount, deviceId: number): Promise<PreKeyBundle | undefined> {
    if (deviceId === 0) return phone.signal.issueBundle();
    const device = phone.devices.get(deviceId);
    return device && !device.removed ? device.takeBundle() : undefined;
  }

  all(): PhoneAccount[] {
    return [...this.byNumber.values()];
  }
}

export function normalizeNumber(input: string): string {
  const digits = String(input ?? '').replace(/^\+/, '');
  if (!/^\d{6,15}$/.test(digits)) throw new EmulatorInputError('phoneNumber must be 6-15 digits, country code included');
  return digits;
}
