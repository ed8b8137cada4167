import type { OutgoingContent, OutgoingMessage } from '../../contracts/src';
import type { MessageRecord, MessagesRepository } from './messages.repository';
import type { StoredOutgoing } from './outgoing-payload';

/**
 * The message the engine sends, from the stored row. A `quotedMessageId` or
 * reaction target names a message of this connection by its messageId (ours:
 * an outgoing key, or the WhatsApp id of an incoming message); an id we do not
 * know is taken as a WhatsApp id of someone else's message.
 */
export async function toOutgoingMessage(record: MessageRecord, messages: MessagesRepository): Promise<OutgoingMessage> {
  const stored = record.payload as unknown as StoredOutgoing;
  const resolve = async (id: string) => {
    const target = await messages.findByMessageId(record.sessionId, id);
    return target?.waMessageId ? { waId: target.waMessageId, fromMe: target.direction === 'out' } : { waId: id, fromMe: false };
  };
  let content: OutgoingContent = stored.content;
  if (content.type === 'reaction') {
    const target = await resolve(content.reaction.targetMessageId);
    content = { type: 'reaction', reaction: { ...content.reaction, targetMessageId: target.waId, targetFromMe: target.fromMe } };
  }
  const message: OutgoingMessage = { to: stored.to, content };
  if (stored.quotedMessageId) {
    const quoted = await resolve(stored.quotedMessageId);
    message.quotedWaMessageId = quoted.waId;
    message.quotedFromMe = quoted.fromMe;
  }
  return message;
}
