import { DeliveryStatus, IncomingMessage, OutgoingMessage } from './messages';

/** Why a send failed, as the send pipeline decides what to do next. */
export enum SendErrorCode {
  /** Retry later: the socket is down, reconnecting, or not owned here. */
  SessionNotConnected = 'SESSION_NOT_CONNECTED',
  Timeout = 'SEND_TIMEOUT',
  ErrorAck = 'ERROR_ACK',
  RateLimited = 'WA_RATE_LIMITED',
  /** Permanent: never retried. */
  SessionLoggedOut = 'SESSION_LOGGED_OUT',
  InvalidRecipient = 'INVALID_RECIPIENT',
  NotOnWhatsApp = 'NOT_ON_WHATSAPP',
  MediaTooLarge = 'MEDIA_TOO_LARGE',
  MediaUnavailable = 'MEDIA_UNAVAILABLE',
  /** The media URL may not be fetched (private or metadata address, not http/https) or its server refused it (4xx). */
  MediaUrlRefused = 'MEDIA_URL_REFUSED',
  InvalidContent = 'INVALID_CONTENT',
}

const PERMANENT = new Set<SendErrorCode>([
  SendErrorCode.SessionLoggedOut,
  SendErrorCode.InvalidRecipient,
  SendErrorCode.NotOnWhatsApp,
  SendErrorCode.MediaTooLarge,
  SendErrorCode.MediaUrlRefused,
  SendErrorCode.InvalidContent,
]);

export class SendError extends Error {
  constructor(
    readonly code: SendErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SendError';
  }

  get permanent(): boolean {
    return PERMANENT.has(this.code);
  }
}

/** What a sender may ask of `SessionGateway.send` besides the message. */
export interface SendOptions {
  /**
   * Called once the message has left for WhatsApp (written to the socket),
   * before its server ack: the next send of the connection may go then and
   * still reach WhatsApp after this one.
   */
  onWritten?: () => void;
}

/**
 * The worker's way to send through the socket of a session it owns. The
 * sessions library implements it; the messaging library calls it.
 */
export abstract class SessionGateway {
  /**
   * Sends with the given WhatsApp id and resolves on WhatsApp's server ack.
   * A retry with the same `waMessageId` is the same message to WhatsApp and to
   * the recipient. Throws `SendError`.
   */
  abstract send(sessionId: string, message: OutgoingMessage, waMessageId: string, options?: SendOptions): Promise<{ ackAt: Date }>;
  /** Waits until the session is connected here, up to `timeoutMs`; false if it is not. */
  abstract waitUntilConnected(sessionId: string, timeoutMs: number): Promise<boolean>;
}

/**
 * Where the sessions library hands what WhatsApp reports about messages.
 * The messaging library implements it (store, dedupe, status lifecycle, events).
 */
export abstract class MessageEventSink {
  abstract incoming(sessionId: string, message: IncomingMessage): Promise<void>;
  abstract statusUpdate(sessionId: string, waMessageId: string, status: DeliveryStatus | 'error', at: Date): Promise<void>;
  /** Baileys asks for a message it must re-send (the recipient could not decrypt it): its stored content, or undefined. */
  abstract findOutgoing(sessionId: string, waMessageId: string): Promise<OutgoingMessage | undefined>;
}

/**
 * Told when this worker process gains or loses a session's lease, so work that
 * must run where the socket is (the session's send queue) follows it. The send
 * pipeline implements it; the sessions library calls it.
 */
export abstract class SessionOwnershipListener {
  abstract sessionAcquired(sessionId: string): Promise<void>;
  abstract sessionReleased(sessionId: string): Promise<void>;
}
