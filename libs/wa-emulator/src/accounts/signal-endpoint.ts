import pino from 'pino';
import {
  addTransactionCapability,
  Curve,
  DEFAULT_CONNECTION_CONFIG,
  encodeWAMessage,
  generateSignalPubKey,
  initAuthCreds,
  proto,
  unpadRandomMax16,
  type AuthenticationCreds,
  type SignalRepositoryWithLIDStore,
} from '../baileys';
import { MemoryKeyStore } from './memory-key-store';

const silent = pino({ level: 'silent' });

/** What a device published on the server so others can start a Signal session with it. */
export interface PreKeyBundle {
  registrationId: number;
  identityKey: Uint8Array;
  signedPreKey: { keyId: number; publicKey: Uint8Array; signature: Uint8Array };
  preKey?: { keyId: number; publicKey: Uint8Array };
}

/**
 * The Signal identity of a simulated primary device, with Baileys' own
 * libsignal repository doing the cryptography. Sessions are always addressed
 * by the peer's LID device JID, on both directions, so a session built by an
 * incoming prekey message is the one used to answer.
 */
export class SignalEndpoint {
  readonly creds: AuthenticationCreds = initAuthCreds();
  private readonly store = new MemoryKeyStore();
  private repositoryInstance: SignalRepositoryWithLIDStore | undefined;
  private nextPreKeyId = 1;

  get identityPublicKey(): Buffer {
    return Buffer.from(this.creds.signedIdentityKey.public);
  }

  get identityPrivateKey(): Buffer {
    return Buffer.from(this.creds.signedIdentityKey.private);
  }

  /** A bundle with a fresh one-time prekey, generated on demand to keep idle accounts small. */
  async issueBundle(): Promise<PreKeyBundle> {
    const keyId = this.nextPreKeyId++;
    const pair = Curve.generateKeyPair();
    await this.store.set({ 'pre-key': { [String(keyId)]: pair } });
    const signed = this.creds.signedPreKey;
    return {
      registrationId: this.creds.registrationId,
      identityKey: this.creds.signedIdentityKey.public,
      signedPreKey: { keyId: signed.keyId, publicKey: signed.keyPair.public, signature: signed.signature },
      preKey: { keyId, publicKey: pair.public },
    };
  }

  async decrypt(senderLidDevice: string, type: 'pkmsg' | 'msg', ciphertext: Uint8Array): Promise<proto.Message> {
    const plain = await this.repository.decryptMessage({ jid: senderLidDevice, type, ciphertext });
    return proto.Message.decode(unpadRandomMax16(plain));
  }

  /** Encrypts for a peer device, first building a session from its bundle when there is none. */
  async encrypt(
    peerLidDevice: string,
    message: proto.IMessage,
    bundle: () => PreKeyBundle | undefined,
  ): Promise<{ type: 'pkmsg' | 'msg'; ciphertext: Uint8Array }> {
    const session = await this.repository.validateSession(peerLidDevice);
    if (!session.exists) {
      const b = bundle();
      if (!b) throw new Error(`no prekey bundle published for ${peerLidDevice}`);
      await this.repository.injectE2ESession({
        jid: peerLidDevice,
        session: {
          registrationId: b.registrationId,
          identityKey: generateSignalPubKey(b.identityKey),
          signedPreKey: { keyId: b.signedPreKey.keyId, publicKey: generateSignalPubKey(b.signedPreKey.publicKey), signature: b.signedPreKey.signature },
          preKey: b.preKey ? { keyId: b.preKey.keyId, publicKey: generateSignalPubKey(b.preKey.publicKey) } : undefined,
        } as never,
      });
    }
    const { type, ciphertext } = await this.repository.encryptMessage({ jid: peerLidDevice, data: encodeWAMessage(message) });
    return { type: type as 'pkmsg' | 'msg', ciphertext };
  }

  /** Forgets the session with a peer device (it re-linked with new keys). */
  async forget(peerLidDevice: string): Promise<void> {
    await this.repository.deleteSession([peerLidDevice]);
  }

  private get repository(): SignalRepositoryWithLIDStore {
    if (!this.repositoryInstance) {
      const keys = addTransactionCapability(this.store, silent, { maxCommitRetries: 1, delayBetweenTriesMs: 0 });
      this.repositoryInstance = DEFAULT_CONNECTION_CONFIG.makeSignalRepository({ creds: this.creds, keys }, silent, async () => []);
    }
    return this.repositoryInstance;
  }

  close(): void {
    this.repositoryInstance?.close?.();
  }
}
