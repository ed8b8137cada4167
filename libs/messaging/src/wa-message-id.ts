import { hash } from 'node:crypto';

/**
 * The WhatsApp id of an outgoing message, derived from (session, client
 * messageId) so that every attempt, a replay from the dead-letter queue and a
 * retry after a crash all send the same WhatsApp message (WhatsApp and the
 * recipient drop duplicates by id). Same shape as Baileys' own ids
 * (`generateMessageIDV2`): `3EB0` + 18 uppercase hex characters of a SHA-256.
 */
export function deriveWaMessageId(sessionId: string, messageId: string): string {
  const digest = hash('sha256', `wagw-message:${sessionId}\u0000${messageId}`, 'hex');
  return `3EB0${digest.slice(0, 18).toUpperCase()}`;
}

export const WA_MESSAGE_ID_SHAPE = /^3EB0[0-9A-F]{18}$/;
