import { createPrivateKey, createPublicKey } from 'node:crypto';
import { Curve, proto, type KeyPair } from '../baileys';

/** Serial Baileys expects in the intermediate certificate (`WA_CERT_DETAILS.SERIAL`). */
const ISSUER_SERIAL = 0;

/**
 * The emulator's own certificate authority: a root key pair (generated at
 * start or given), an intermediate signed by the root, and the Noise server
 * static key certified by the intermediate. A client that trusts the root
 * public key and verifies signatures strictly accepts the chain; one that
 * trusts another root rejects it.
 */
export class RootAuthority {
  readonly root: KeyPair;
  readonly intermediate: KeyPair = Curve.generateKeyPair();
  readonly serverStatic: KeyPair = Curve.generateKeyPair();
  /** Encoded `CertChain`, sent (encrypted) in every server hello. */
  readonly certificateChain: Uint8Array;

  constructor(rootPrivateKey?: Uint8Array) {
    this.root = rootPrivateKey ? keyPairFromPrivate(rootPrivateKey) : Curve.generateKeyPair();
    const intermediateDetails = proto.CertChain.NoiseCertificate.Details.encode({
      serial: 1,
      issuerSerial: ISSUER_SERIAL,
      key: this.intermediate.public,
    }).finish();
    const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
      serial: 2,
      issuerSerial: 1,
      key: this.serverStatic.public,
    }).finish();
    this.certificateChain = proto.CertChain.encode({
      intermediate: { details: intermediateDetails, signature: Curve.sign(this.root.private, intermediateDetails) },
      leaf: { details: leafDetails, signature: Curve.sign(this.intermediate.private, leafDetails) },
    }).finish();
  }

  get rootPublicKeyHex(): string {
    return Buffer.from(this.root.public).toString('hex');
  }
}

/** Rebuilds a Curve25519 key pair from its private half (X25519 via node:crypto). */
export function keyPairFromPrivate(privateKey: Uint8Array): KeyPair {
  if (privateKey.byteLength !== 32) throw new Error('root private key must be 32 bytes');
  const pkcs8Prefix = Buffer.from([48, 46, 2, 1, 0, 48, 5, 6, 3, 43, 101, 110, 4, 34, 4, 32]);
  const key = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, privateKey]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return { private: Buffer.from(privateKey), public: Buffer.from(spki.subarray(spki.length - 32)) };
}
