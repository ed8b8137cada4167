import type { MediaType } from './messages';

const MIB = 1024 * 1024;

/**
 * What WhatsApp accepts per media type. Sizes are of the decoded bytes.
 * Image, video and audio share the configurable `MEDIA_MAX_BYTES` (16 MiB by
 * default, WhatsApp's limit for them); documents go up to 100 MiB and stickers
 * to 500 KiB (WhatsApp's animated-sticker limit). Inline base64 is also
 * bounded by the request body limit, so large files are better sent by URL.
 */
export interface MediaRule {
  maxBytes: number;
  /** Accepted mimetypes (parameters such as `; codecs=opus` are ignored); null: any well-formed type. */
  mimetypes: readonly string[] | null;
}

export function mediaRules(configuredMaxBytes: number): Record<MediaType, MediaRule> {
  return {
    image: { maxBytes: configuredMaxBytes, mimetypes: ['image/jpeg', 'image/png', 'image/webp'] },
    video: { maxBytes: configuredMaxBytes, mimetypes: ['video/mp4', 'video/3gpp'] },
    audio: { maxBytes: configuredMaxBytes, mimetypes: ['audio/ogg', 'audio/mpeg', 'audio/mp4', 'audio/aac', 'audio/amr'] },
    document: { maxBytes: 100 * MIB, mimetypes: null },
    sticker: { maxBytes: 500 * 1024, mimetypes: ['image/webp'] },
  };
}

const MIMETYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** `audio/ogg; codecs=opus` -> `audio/ogg`; undefined when not a mimetype at all. */
export function essenceOf(mimetype: string): string | undefined {
  const essence = mimetype.split(';')[0].trim().toLowerCase();
  return MIMETYPE.test(essence) ? essence : undefined;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/** Decoded size of a base64 string, or undefined when it is not base64 (whitespace is not accepted). */
export function base64DecodedBytes(value: string): number | undefined {
  if (value.length === 0 || !BASE64.test(value)) return undefined;
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  return Math.floor((value.length * 3) / 4) - padding;
}
