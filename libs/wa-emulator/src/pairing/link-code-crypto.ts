import { randomBytes } from 'node:crypto';
import { aesDecryptCTR, aesDecryptGCM, aesEncryptCTR, Curve, derivePairingCodeKey, hkdf, type KeyPair } from '../baileys';

/**
 * The phone's side of "link with phone number": the eight-character code
 * (PBKDF2) unwraps the companion's ephemeral key and wraps ours; the key
 * bundle the companion sends back yields the shared adv secret.
 */
export async function unwrapCompanionEphemeral(wrapped: Buffer, code: string): Promise<Buffer> {
  if (wrapped.length < 80) throw new Error('wrapped companion key too short');
  const key = await derivePairingCodeKey(code, wrapped.subarray(0, 32));
  return aesDecryptCTR(wrapped.subarray(48, 80), key, wrapped.subarray(32, 48));
}

export async function wrapPrimaryEphemeral(primaryEphemeralPublic: Uint8Array, code: string): Promise<Buffer> {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const key = await derivePairingCodeKey(code, salt);
  return Buffer.concat([salt, iv, aesEncryptCTR(primaryEphemeralPublic, key, iv)]);
}

/** Opens `link_code_pairing_wrapped_key_bundle` and derives the adv secret; throws when the code was wrong. */
export function openKeyBundle(input: {
  wrappedBundle: Buffer;
  primaryEphemeral: KeyPair;
  companionEphemeralPublic: Buffer;
  primaryIdentity: KeyPair;
}): { companionIdentityKey: Buffer; advSecret: Buffer } {
  const companionShared = Curve.sharedKey(input.primaryEphemeral.private, input.companionEphemeralPublic);
  const salt = input.wrappedBundle.subarray(0, 32);
  const iv = input.wrappedBundle.subarray(32, 44);
  const key = Buffer.from(hkdf(companionShared, 32, { salt, info: 'link_code_pairing_key_bundle_encryption_key' }));
  const plain = aesDecryptGCM(input.wrappedBundle.subarray(44), key, iv, Buffer.alloc(0));
  const companionIdentityKey = plain.subarray(0, 32);
  const random = plain.subarray(64, 96);
  const identityShared = Curve.sharedKey(input.primaryIdentity.private, companionIdentityKey);
  const advSecret = Buffer.from(hkdf(Buffer.concat([companionShared, identityShared, random]), 32, { info: 'adv_secret' }));
  return { companionIdentityKey: Buffer.from(companionIdentityKey), advSecret };
}
