/**
 * What a client can send (API.md, POST /connections/:id/send), after
 * validation and normalisation (`to` is a JID). Shared by the API (which
 * validates and stores it), the worker (which sends it) and the engine
 * adapter (which builds the WhatsApp content).
 */
export type MediaType = 'image' | 'video' | 'audio' | 'document' | 'sticker';

export interface MediaSource {
  url?: string;
  base64?: string;
  mimetype: string;
  filename?: string;
}

export type OutgoingContent =
  | { type: 'text'; body: string }
  | { type: MediaType; media: MediaSource; caption?: string; ptt?: boolean }
  | { type: 'location'; location: { latitude: number; longitude: number; name?: string; address?: string } }
  | { type: 'contact'; contact: { fullName?: string; phoneNumber?: string; vcard?: string } }
  | { type: 'reaction'; reaction: { targetMessageId: string; emoji: string; /** Whether the target was sent by this connection (resolved by the pipeline). */ targetFromMe?: boolean } }
  | { type: 'poll'; poll: { name: string; options: string[]; selectableCount?: number } };

export interface OutgoingMessage {
  /** Normalised JID of the recipient. */
  to: string;
  content: OutgoingContent;
  /** WhatsApp id of the message this one replies to. */
  quotedWaMessageId?: string;
  /** Whether the quoted message was sent by this connection. */
  quotedFromMe?: boolean;
}

/** Statuses WhatsApp reports for a sent message, in order. */
export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'played';
export const DELIVERY_STATUS_ORDER: readonly DeliveryStatus[] = ['sent', 'delivered', 'read', 'played'];

/** An incoming message as the engine reports it (notify and offline `append` alike). */
export interface IncomingMessage {
  waMessageId: string;
  /** Chat JID (the other party, or the group). */
  chat: string;
  /** Sender JID. */
  from: string;
  /** Our own JID. */
  to: string;
  pushName: string | null;
  type: string;
  /** Text of text messages (and captions). */
  body: string | null;
  timestamp: string;
  /** Media metadata when the message carries media (no bytes). */
  media?: { mimetype?: string; fileLength?: number; fileName?: string; sha256?: string };
  /** `notify` (live) or `append` (delivered after being offline). */
  delivery: 'notify' | 'append';
  raw: Record<string, unknown>;
}
