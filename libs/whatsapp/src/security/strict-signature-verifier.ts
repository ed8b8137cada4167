import { Curve, WA_CERT_DETAILS } from '@whiskeysockets/baileys';
import { verifyXEdDSA } from './xeddsa';

/**
 * Baileys 7.0.0-rc14's `Curve.verify` accepts any well-formed signature
 * (libsignal 6 returns false instead of throwing and Baileys only catches
 * exceptions), so the Noise certificate chain and the ADV account signature
 * are not really checked: a rogue server would be accepted. `Curve` is one
 * shared mutable object, so a strict verifier can replace its `verify` for the
 * whole process. It is a setting the caller turns on; every rejection is
 * reported with what failed, so an operator notices if a WhatsApp change ever
 * trips it.
 */

export interface SignatureRejection {
  /** `trust-root`: the intermediate certificate against the configured root; `other`: leaf, ADV or prekey signatures. */
  check: 'trust-root' | 'other';
  reason: 'invalid-signature' | 'malformed-input';
  publicKeyHex: string;
  messageBytes: number;
  at: Date;
}

export interface StrictVerifierOptions {
  /** Called for every rejection (after it is logged). */
  onRejection?: (rejection: SignatureRejection) => void;
  /** A pino-style logger; rejections are logged at warn. */
  logger?: { warn: (obj: object, msg: string) => void };
}

type VerifyFn = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

let original: VerifyFn | undefined;
let rejectionCount = 0;

/** Replaces Baileys' shared `Curve.verify` with a strict check. Calling it again replaces the options. */
export function installStrictSignatureVerifier(options: StrictVerifierOptions = {}): void {
  if (!original) original = Curve.verify as VerifyFn;
  (Curve as { verify: VerifyFn }).verify = (publicKey, message, signature) => {
    const wellFormed = !!publicKey && !!message && !!signature && signature.byteLength === 64 && (publicKey.byteLength === 32 || publicKey.byteLength === 33);
    if (wellFormed && verifyXEdDSA(publicKey, message, signature)) return true;
    rejectionCount++;
    const rejection: SignatureRejection = {
      check: publicKey && Buffer.from(publicKey).subarray(-32).equals(WA_CERT_DETAILS.PUBLIC_KEY) ? 'trust-root' : 'other',
      reason: wellFormed ? 'invalid-signature' : 'malformed-input',
      publicKeyHex: publicKey ? Buffer.from(publicKey).toString('hex') : '',
      messageBytes: message?.byteLength ?? 0,
      at: new Date(),
    };
    options.logger?.warn({ signatureRejection: rejection }, 'strict signature verifier rejected a signature');
    options.onRejection?.(rejection);
    return false;
  };
}

/** Puts Baileys' own `Curve.verify` back. */
export function uninstallStrictSignatureVerifier(): void {
  if (!original) return;
  (Curve as { verify: VerifyFn }).verify = original;
  original = undefined;
}

export function isStrictSignatureVerifierInstalled(): boolean {
  return original !== undefined;
}

/** Rejections since the process started (for metrics and health reports). */
export function strictVerifierRejectionCount(): number {
  return rejectionCount;
}
