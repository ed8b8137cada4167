import { createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { getMediaKeys, type proto } from '../baileys';
import { EmulatorInputError } from '../errors';
import type { MediaHost } from './media-host';

const MEDIA_FIELDS = [
  ['imageMessage', 'image'],
  ['videoMessage', 'video'],
  ['audioMessage', 'audio'],
  ['documentMessage', 'document'],
  ['stickerMessage', 'sticker'],
] as const;

export interface DecryptedMedia {
  type: (typeof MEDIA_FIELDS)[number][1];
  mimetype?: string;
  fileName?: string;
  /** Size of the decrypted file. */
  bytes: number;
  /** SHA-256 of the decrypted file (hex). */
  sha256: string;
  base64: string;
}

type MediaMessage = proto.Message.IImageMessage & { fileName?: string | null };

/**
 * The file a received media message carries, as the recipient's phone would
 * see it: fetched from the media host by its direct path, checked against
 * the message's hashes and MAC, decrypted with its media key.
 */
export async function decryptReceivedMedia(content: Record<string, unknown>, host: MediaHost): Promise<DecryptedMedia> {
  const message = unwrapContent(content);
  const found = MEDIA_FIELDS.find(([field]) => message[field]);
  if (!found) throw new EmulatorInputError('the message carries no media', 404);
  const [field, type] = found;
  const media = message[field] as MediaMessage;
  const upload = host.find(String(media.directPath ?? media.url ?? ''));
  if (!upload) throw new EmulatorInputError('the media was not uploaded to this emulator', 404);
  const mediaKey = bytesOf(media.mediaKey);
  if (!mediaKey) throw new EmulatorInputError('the message has no mediaKey', 422);
  const file = upload.bytes;
  if (!sameBytes(createHash('sha256').update(file).digest(), bytesOf(media.fileEncSha256))) throw new EmulatorInputError('fileEncSha256 does not match the uploaded file', 422);
  const { iv, cipherKey, macKey } = await getMediaKeys(mediaKey, type);
  if (!macKey) throw new EmulatorInputError('no MAC key could be derived from the mediaKey', 422);
  const ciphertext = file.subarray(0, file.length - 10);
  const mac = createHmac('sha256', macKey).update(iv).update(ciphertext).digest().subarray(0, 10);
  if (!sameBytes(mac, file.subarray(file.length - 10))) throw new EmulatorInputError('the media MAC does not verify', 422);
  const decipher = createDecipheriv('aes-256-cbc', cipherKey, iv);
  const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  const sha256 = createHash('sha256').update(plain).digest();
  if (!sameBytes(sha256, bytesOf(media.fileSha256))) throw new EmulatorInputError('fileSha256 does not match the decrypted file', 422);
  return { type, mimetype: media.mimetype ?? undefined, fileName: media.fileName ?? undefined, bytes: plain.length, sha256: sha256.toString('hex'), base64: plain.toString('base64') };
}

/** The stored content is `proto.Message.toObject` output; wrappers (device-sent, ephemeral, view-once, captioned document) are opened first. */
function unwrapContent(content: Record<string, unknown>): Record<string, unknown> {
  let m = content;
  for (let i = 0; i < 4; i++) {
    const wrapper = ['deviceSentMessage', 'ephemeralMessage', 'viewOnceMessage', 'viewOnceMessageV2', 'documentWithCaptionMessage']
      .map((k) => (m[k] as { message?: Record<string, unknown> } | undefined)?.message)
      .find(Boolean);
    if (!wrapper) break;
    m = wrapper;
  }
  return m;
}

/** Bytes fields arrive as Uint8Array, Buffer or base64 text depending on how the protobuf was turned into an object. */
function bytesOf(value: unknown): Buffer | undefined {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'string' && value) return Buffer.from(value, 'base64');
  return undefined;
}

function sameBytes(a: Buffer, b: Buffer | undefined): boolean {
  return b !== undefined && a.length === b.length && timingSafeEqual(a, b);
}
