import type { AnyMessageContent, WAMessage } from '@whiskeysockets/baileys';
import { OutgoingContent, OutgoingMessage, SendError, SendErrorCode } from '../../../contracts/src';

function mediaOf(content: Extract<OutgoingContent, { media: unknown }>, fetched?: Buffer): { url: string } | Buffer {
  if (fetched) return fetched;
  if (content.media.base64) return Buffer.from(content.media.base64, 'base64');
  if (content.media.url) return { url: content.media.url };
  throw new SendError(SendErrorCode.InvalidContent, 'media needs a url or base64 data');
}

/** vCard 3.0 from a name and a number, as WhatsApp clients expect for contact cards. */
export function vcardOf(fullName: string, phoneNumber: string): string {
  const digits = phoneNumber.replace(/[^\d]/g, '');
  const escaped = fullName.replace(/([,;\\])/g, '\\$1');
  return ['BEGIN:VCARD', 'VERSION:3.0', `FN:${escaped}`, `TEL;type=CELL;type=VOICE;waid=${digits}:+${digits}`, 'END:VCARD'].join('\n');
}

/**
 * Maps the product's message content to Baileys' `AnyMessageContent`.
 * `fetchedMedia`: the bytes of a media URL, downloaded by the caller; without
 * it Baileys would download the URL itself.
 */
export function toBaileysContent(message: OutgoingMessage, fetchedMedia?: Buffer): AnyMessageContent {
  const c = message.content;
  switch (c.type) {
    case 'text':
      return { text: c.body };
    case 'image':
      return { image: mediaOf(c, fetchedMedia), caption: c.caption, mimetype: c.media.mimetype };
    case 'video':
      return { video: mediaOf(c, fetchedMedia), caption: c.caption, mimetype: c.media.mimetype };
    case 'audio':
      return { audio: mediaOf(c, fetchedMedia), mimetype: c.media.mimetype, ptt: c.ptt ?? false };
    case 'document':
      return { document: mediaOf(c, fetchedMedia), mimetype: c.media.mimetype, fileName: c.media.filename ?? 'document', caption: c.caption };
    case 'sticker':
      return { sticker: mediaOf(c, fetchedMedia), mimetype: c.media.mimetype };
    case 'location':
      return { location: { degreesLatitude: c.location.latitude, degreesLongitude: c.location.longitude, name: c.location.name, address: c.location.address } };
    case 'contact': {
      const vcard = c.contact.vcard ?? vcardOf(c.contact.fullName ?? '', c.contact.phoneNumber ?? '');
      return { contacts: { displayName: c.contact.fullName, contacts: [{ displayName: c.contact.fullName, vcard }] } };
    }
    case 'reaction':
      return { react: { text: c.reaction.emoji, key: { remoteJid: message.to, id: c.reaction.targetMessageId, fromMe: c.reaction.targetFromMe ?? false } } };
    case 'poll':
      return { poll: { name: c.poll.name, values: c.poll.options, selectableCount: c.poll.selectableCount ?? 1 } };
  }
}

/** The minimal quoted message Baileys needs to build a reply's context. */
export function quotedStub(message: OutgoingMessage): WAMessage | undefined {
  if (!message.quotedWaMessageId) return undefined;
  return { key: { remoteJid: message.to, id: message.quotedWaMessageId, fromMe: message.quotedFromMe ?? false }, message: { conversation: '' } } as WAMessage;
}
