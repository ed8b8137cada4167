/**
 * The fields of a WhatsApp Web login QR: `ref,noiseKeyB64,identityKeyB64,advSecretB64,platform`,
 * possibly behind a `https://wa.me/settings/linked_devices#` prefix.
 */
export interface ParsedQr {
  ref: string;
  noiseKey: Buffer;
  identityKey: Buffer;
  advSecret: Buffer;
}

export function parseQr(qr: string): ParsedQr {
  const text = String(qr);
  const parts = text.slice(text.indexOf('#') + 1).split(',');
  if (parts.length < 4) throw new QrFormatError('QR must be "ref,noiseKey,identityKey,advSecret[,platform]"');
  const [ref, noise, identity, adv] = parts;
  const noiseKey = Buffer.from(noise, 'base64');
  const identityKey = Buffer.from(identity, 'base64');
  const advSecret = Buffer.from(adv, 'base64');
  if (!ref || noiseKey.length !== 32 || identityKey.length !== 32 || advSecret.length !== 32) {
    throw new QrFormatError('QR keys must be 32-byte base64 values');
  }
  return { ref, noiseKey, identityKey, advSecret };
}

export class QrFormatError extends Error {}
