import { createHash } from 'node:crypto';
import type { AppConfig } from '../../../config/src/app-config';
import { CredentialsKeyError } from './auth-state.errors';
import { open, seal } from './sealed-box';

const dataKeyAad = (sessionId: string) => `wa-gateway/data-key\0${sessionId}`;

/**
 * The master keys that wrap the per-session data keys: the current key
 * (CREDENTIALS_KEY) wraps, and a previous key (CREDENTIALS_KEY_PREVIOUS) is
 * still accepted for unwrapping while a rotation rolls out. Each wrapped key
 * is stored with the id of the master key that wrapped it.
 */
export class CredentialsKeyring {
  readonly currentKeyId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(current: Buffer, previous: Buffer[] = []) {
    for (const key of [current, ...previous]) {
      if (key.length !== 32) throw new CredentialsKeyError('A credentials master key must be 32 bytes');
    }
    this.currentKeyId = CredentialsKeyring.keyIdOf(current);
    this.keys.set(this.currentKeyId, current);
    for (const key of previous) if (!this.keys.has(CredentialsKeyring.keyIdOf(key))) this.keys.set(CredentialsKeyring.keyIdOf(key), key);
  }

  static fromConfig(config: AppConfig): CredentialsKeyring {
    if (!config.credentialsKey) throw new CredentialsKeyError('No credentials master key is configured (CREDENTIALS_KEY)');
    return new CredentialsKeyring(config.credentialsKey, config.credentialsKeyPrevious ? [config.credentialsKeyPrevious] : []);
  }

  /** A short, non-secret name for a master key: enough to tell keys apart, useless for guessing one. */
  static keyIdOf(key: Buffer): string {
    return createHash('sha256').update('wa-gateway/credentials-key-id\0').update(key).digest('hex').slice(0, 16);
  }

  knows(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  wrap(sessionId: string, dataKey: Buffer): { keyId: string; wrapped: Buffer } {
    return { keyId: this.currentKeyId, wrapped: seal(this.keys.get(this.currentKeyId)!, dataKey, dataKeyAad(sessionId)) };
  }

  unwrap(sessionId: string, keyId: string, wrapped: Buffer): Buffer {
    const key = this.keys.get(keyId);
    if (!key) {
      throw new CredentialsKeyError(
        `The credentials of session ${sessionId} are wrapped with master key ${keyId}, which is neither CREDENTIALS_KEY (${this.currentKeyId}) ` +
          `nor CREDENTIALS_KEY_PREVIOUS${this.keys.size > 1 ? ` (${[...this.keys.keys()].slice(1).join(', ')})` : ' (unset)'}`,
      );
    }
    try {
      return open(key, wrapped, dataKeyAad(sessionId));
    } catch {
      throw new CredentialsKeyError(`The data key of session ${sessionId} cannot be unwrapped with master key ${keyId}: the stored value is corrupt or was altered`);
    }
  }
}
