import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { getMediaKeys } from '../baileys';

export type MediaKind = 'image' | 'video' | 'audio' | 'document' | 'sticker';

export interface EncryptedMedia {
  /** What is stored on the media host: AES-256-CBC ciphertext, then the first 10 bytes of its HMAC. */
  file: Buffer;
  mediaKey: Buffer;
  fileSha256: Buffer;
  fileEncSha256: Buffer;
}

/** Encrypts a file the way WhatsApp clients do before uploading it (the inverse of `decryptReceivedMedia`). */
export async function encryptMedia(plain: Buffer, kind: MediaKind): Promise<EncryptedMedia> {
  const mediaKey = randomBytes(32);
  const { iv, cipherKey, macKey } = await getMediaKeys(mediaKey, kind);
  const cipher = createCipheriv('aes-256-cbc', cipherKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  const mac = createHmac('sha256', macKey!).update(iv).update(ciphertext).digest().subarray(0, 10);
  const file = Buffer.concat([ciphertext, mac]);
  return { file, mediaKey, fileSha256: createHash('sha256').update(plain).digest(), fileEncSha256: createHash('sha256').update(file).digest() };
}
