import { createPublicKey, verify } from 'node:crypto';

/**
 * XEdDSA signature verification (the scheme libsignal's `curve.calculateSignature`
 * produces) on node:crypto's Ed25519: the Curve25519 public key is mapped to
 * its Edwards form, the sign bit travels in the top bit of the signature.
 * Returns false for anything that is not a valid signature, never throws.
 */
const P = (1n << 255n) - 19n;
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function verifyXEdDSA(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const montgomery = normalizePublicKey(publicKey);
    if (!montgomery || !signature || signature.byteLength !== 64 || !message) return false;
    const sig = Buffer.from(signature);
    const signBit = sig[63] & 0x80;
    sig[63] &= 0x7f;
    const edwards = montgomeryToEdwards(montgomery, signBit);
    if (!edwards) return false;
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, edwards]), format: 'der', type: 'spki' });
    return verify(null, Buffer.from(message), key, sig);
  } catch {
    return false;
  }
}

/** Accepts the 32-byte key or libsignal's 33-byte form with the 0x05 type prefix. */
function normalizePublicKey(key: Uint8Array): Buffer | undefined {
  if (!key) return undefined;
  if (key.byteLength === 33 && key[0] === 5) return Buffer.from(key.subarray(1));
  if (key.byteLength === 32) return Buffer.from(key);
  return undefined;
}

function montgomeryToEdwards(u: Buffer, signBit: number): Buffer | undefined {
  const uValue = fromLittleEndian(u) & ((1n << 255n) - 1n);
  const denominator = mod(uValue + 1n);
  if (denominator === 0n) return undefined;
  const y = mod((uValue - 1n) * power(denominator, P - 2n));
  const out = toLittleEndian(y);
  out[31] |= signBit;
  return out;
}

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function power(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = mod(result * b);
    b = mod(b * b);
    e >>= 1n;
  }
  return result;
}

function fromLittleEndian(bytes: Buffer): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  return value;
}

function toLittleEndian(value: bigint): Buffer {
  const out = Buffer.alloc(32);
  let v = value;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
