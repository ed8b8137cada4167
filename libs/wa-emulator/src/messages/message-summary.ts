import { proto } from '../baileys';

export interface MessageSummary {
  type: string;
  text?: string;
}

/**
 * Reduces a decrypted `proto.Message` to a `type` and a readable `text`, the
 * two fields tests and the control API assert on. Wrappers (ephemeral,
 * view-once, device-sent) are unwrapped first.
 */
export function summarizeMessage(message: proto.IMessage): MessageSummary {
  const m = unwrap(message);
  if (m.conversation != null) return { type: 'text', text: m.conversation };
  if (m.extendedTextMessage) return { type: 'text', text: m.extendedTextMessage.text ?? undefined };
  if (m.reactionMessage) return { type: 'reaction', text: m.reactionMessage.text ?? undefined };
  if (m.locationMessage) {
    const l = m.locationMessage;
    return { type: 'location', text: l.name ?? l.address ?? `${l.degreesLatitude},${l.degreesLongitude}` };
  }
  if (m.liveLocationMessage) return { type: 'location', text: m.liveLocationMessage.caption ?? undefined };
  if (m.contactMessage) return { type: 'contact', text: m.contactMessage.displayName ?? vcardName(m.contactMessage.vcard) };
  if (m.contactsArrayMessage) return { type: 'contact', text: m.contactsArrayMessage.displayName ?? undefined };
  const poll = m.pollCreationMessage ?? m.pollCreationMessageV2 ?? m.pollCreationMessageV3;
  if (poll) return { type: 'poll', text: poll.name ?? undefined };
  if (m.pollUpdateMessage) return { type: 'poll-vote' };
  if (m.imageMessage) return { type: 'image', text: m.imageMessage.caption ?? undefined };
  if (m.videoMessage) return { type: 'video', text: m.videoMessage.caption ?? undefined };
  if (m.audioMessage) return { type: 'audio' };
  if (m.documentMessage) return { type: 'document', text: m.documentMessage.caption ?? m.documentMessage.fileName ?? undefined };
  if (m.stickerMessage) return { type: 'sticker' };
  if (m.protocolMessage) return { type: 'protocol' };
  return { type: 'unknown' };
}

function unwrap(message: proto.IMessage): proto.IMessage {
  let m = message;
  for (let i = 0; i < 4; i++) {
    const inner =
      m.deviceSentMessage?.message ??
      m.ephemeralMessage?.message ??
      m.viewOnceMessage?.message ??
      m.viewOnceMessageV2?.message ??
      m.documentWithCaptionMessage?.message;
    if (!inner) break;
    m = inner;
  }
  return m;
}

/** A message carries no user content when it is only keys or protocol plumbing. */
export function isPlumbing(message: proto.IMessage): boolean {
  const m = unwrap(message);
  const keys = Object.keys(proto.Message.toObject(proto.Message.fromObject(m))).filter(
    (k) => k !== 'messageContextInfo' && k !== 'senderKeyDistributionMessage',
  );
  return keys.length === 0 || (keys.length === 1 && keys[0] === 'protocolMessage');
}

function vcardName(vcard: string | null | undefined): string | undefined {
  return vcard?.match(/^FN:(.*)$/m)?.[1]?.trim() || undefined;
}
