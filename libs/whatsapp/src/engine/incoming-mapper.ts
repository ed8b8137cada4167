import { getContentType, jidNormalizedUser, normalizeMessageContent, proto, type WAMessage } from '@whiskeysockets/baileys';
import type { DeliveryStatus, IncomingMessage } from '../../../contracts/src';

const MEDIA_TYPES = new Set(['imageMessage', 'videoMessage', 'audioMessage', 'documentMessage', 'stickerMessage', 'documentWithCaptionMessage']);

/** Content types that are protocol traffic, not something a person sent. */
const NOT_CONTENT = new Set(['protocolMessage', 'senderKeyDistributionMessage', 'messageContextInfo']);

const TYPE_NAMES: Record<string, string> = {
  conversation: 'text',
  extendedTextMessage: 'text',
  imageMessage: 'image',
  videoMessage: 'video',
  audioMessage: 'audio',
  documentMessage: 'document',
  stickerMessage: 'sticker',
  locationMessage: 'location',
  liveLocationMessage: 'location',
  contactMessage: 'contact',
  contactsArrayMessage: 'contact',
  reactionMessage: 'reaction',
  pollCreationMessage: 'poll',
  pollCreationMessageV2: 'poll',
  pollCreationMessageV3: 'poll',
  pollUpdateMessage: 'poll_vote',
};

function toIso(timestamp: WAMessage['messageTimestamp']): string {
  const seconds = typeof timestamp === 'number' ? timestamp : timestamp ? Number(timestamp.toString()) : Date.now() / 1000;
  return new Date(seconds * 1000).toISOString();
}

/**
 * Maps a Baileys message to an incoming message, or undefined when it is not
 * one: our own messages, protocol traffic, and the empty placeholder Baileys
 * emits before it could decrypt (messageStubType CIPHERTEXT): the real message
 * follows under the same id.
 */
export function toIncomingMessage(msg: WAMessage, delivery: 'notify' | 'append', ownJid: string): IncomingMessage | undefined {
  if (!msg.key.id || msg.key.fromMe || !msg.message) return undefined;
  if (msg.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT) return undefined;
  const content = normalizeMessageContent(msg.message);
  const contentType = content ? getContentType(content) : undefined;
  if (!content || !contentType || NOT_CONTENT.has(contentType)) return undefined;
  const chat = jidNormalizedUser(msg.key.remoteJid ?? '');
  const from = jidNormalizedUser(msg.key.participant || msg.key.remoteJid || '');
  const inner = (content as Record<string, unknown>)[contentType] as Record<string, unknown> | string | undefined;
  const body =
    content.conversation ??
    content.extendedTextMessage?.text ??
    (typeof inner === 'object' && inner && typeof inner.caption === 'string' ? inner.caption : null) ??
    (contentType === 'reactionMessage' ? (content.reactionMessage?.text ?? null) : null);
  const media = MEDIA_TYPES.has(contentType) && typeof inner === 'object' && inner
    ? {
        mimetype: inner.mimetype as string | undefined,
        fileLength: inner.fileLength !== undefined && inner.fileLength !== null ? Number(String(inner.fileLength)) : undefined,
        fileName: inner.fileName as string | undefined,
        sha256: inner.fileSha256 ? Buffer.from(inner.fileSha256 as Uint8Array).toString('base64') : undefined,
      }
    : undefined;
  return {
    waMessageId: msg.key.id,
    chat,
    from,
    to: jidNormalizedUser(ownJid),
    pushName: msg.pushName ?? null,
    type: TYPE_NAMES[contentType] ?? contentType.replace(/Message$/, ''),
    body: body ?? null,
    timestamp: toIso(msg.messageTimestamp),
    ...(media && { media }),
    delivery,
    raw: { key: msg.key, messageType: contentType },
  };
}

/** WhatsApp's numeric receipt statuses to the product's names (2, the server ack, is handled on the ack itself). */
export function toDeliveryStatus(status: number | null | undefined): DeliveryStatus | 'error' | undefined {
  switch (status) {
    case proto.WebMessageInfo.Status.DELIVERY_ACK:
      return 'delivered';
    case proto.WebMessageInfo.Status.READ:
      return 'read';
    case proto.WebMessageInfo.Status.PLAYED:
      return 'played';
    case proto.WebMessageInfo.Status.ERROR:
      return 'error';
    default:
      return undefined;
  }
}
