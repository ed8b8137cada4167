import type { OutgoingContent } from '../../contracts/src';
import { base64DecodedBytes, essenceOf, mediaRules } from '../../contracts/src/media-rules';
import { MessagingException } from './messaging.exception';
import { normaliseRecipient } from './recipient';
import type { MediaDto, SendMessageDto } from './send.dto';

/**
 * What is stored for an outgoing message and what its idempotency hash is
 * computed from: the request after normalisation (`to` as a JID, the content
 * members of its type only, `scheduledAt` in UTC), without the key itself.
 */
export interface StoredOutgoing {
  to: string;
  content: OutgoingContent;
  quotedMessageId?: string;
  scheduledAt?: string;
}

const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 60 * 60 * 1000;

export function normaliseSend(dto: SendMessageDto, options: { mediaMaxBytes: number; now?: Date }): StoredOutgoing {
  const to = normaliseRecipient(dto.to);
  if (!to) throw MessagingException.invalidField('to', 'not an accepted recipient');
  const stored: StoredOutgoing = { to, content: contentOf(dto, options.mediaMaxBytes) };
  if (dto.quotedMessageId !== undefined) stored.quotedMessageId = dto.quotedMessageId;
  if (dto.scheduledAt !== undefined) {
    const at = new Date(dto.scheduledAt);
    if (Number.isNaN(at.getTime())) throw MessagingException.invalidField('scheduledAt', 'not a valid time');
    if (at.getTime() - (options.now ?? new Date()).getTime() > MAX_SCHEDULE_AHEAD_MS) throw MessagingException.invalidField('scheduledAt', 'at most one year ahead');
    stored.scheduledAt = at.toISOString();
  }
  const nul = fieldWithNul(stored);
  if (nul) throw MessagingException.invalidField(nul, 'must not contain the NUL character (U+0000)');
  return stored;
}

/** PostgreSQL cannot store U+0000 in text or jsonb: such a request is refused up front instead of failing at the insert. */
function fieldWithNul(value: unknown, path: string[] = []): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path.filter((p) => p !== 'content').join('.') || 'body' : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, member] of Object.entries(value)) {
    const found = fieldWithNul(member, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

function contentOf(dto: SendMessageDto, mediaMaxBytes: number): OutgoingContent {
  switch (dto.type) {
    case 'text':
      return { type: 'text', body: dto.body! };
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker':
      return { type: dto.type, media: mediaOf(dto.type, dto.media!, mediaMaxBytes), caption: dto.caption, ptt: dto.ptt };
    case 'location': {
      const { latitude, longitude, name, address } = dto.location!;
      return { type: 'location', location: { latitude, longitude, name, address } };
    }
    case 'contact': {
      const { fullName, phoneNumber, vcard } = dto.contact!;
      return { type: 'contact', contact: { fullName, phoneNumber, vcard } };
    }
    case 'reaction':
      return { type: 'reaction', reaction: { targetMessageId: dto.reaction!.targetMessageId, emoji: dto.reaction!.emoji } };
    case 'poll': {
      const { name, options, selectableCount } = dto.poll!;
      return { type: 'poll', poll: { name, options: [...options], selectableCount } };
    }
  }
}

function mediaOf(type: keyof ReturnType<typeof mediaRules>, media: MediaDto, mediaMaxBytes: number) {
  const rule = mediaRules(mediaMaxBytes)[type];
  const essence = essenceOf(media.mimetype);
  if (!essence) throw MessagingException.invalidField('media.mimetype', 'not a mimetype (type/subtype)');
  if (rule.mimetypes && !rule.mimetypes.includes(essence)) {
    throw MessagingException.invalidField('media.mimetype', `${essence} cannot be sent as ${type}; accepted: ${rule.mimetypes.join(', ')}`);
  }
  if (media.base64 !== undefined) {
    const bytes = base64DecodedBytes(media.base64);
    if (bytes === undefined) throw MessagingException.invalidField('media.base64', 'not base64 (standard alphabet, no data: prefix, no whitespace)');
    if (bytes > rule.maxBytes) throw MessagingException.mediaTooLarge('media.base64', bytes, rule.maxBytes);
    return { base64: media.base64, mimetype: media.mimetype, filename: media.filename };
  }
  let url: URL;
  try {
    url = new URL(media.url!);
  } catch {
    throw MessagingException.invalidField('media.url', 'not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw MessagingException.invalidField('media.url', 'must be http or https');
  if (url.username || url.password) throw MessagingException.invalidField('media.url', 'must not carry credentials');
  return { url: url.toString(), mimetype: media.mimetype, filename: media.filename };
}
