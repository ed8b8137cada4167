import type { AuthenticationState } from '@whiskeysockets/baileys';
import type { DeliveryStatus, IncomingMessage, OutgoingMessage } from '../../../contracts/src';

/** What a socket reports, already mapped to the product's terms. */
export type EngineEvent =
  | { type: 'qr'; qr: string }
  | { type: 'open'; me: { jid: string; phoneNumber: string; lid?: string; name?: string }; isNewLogin: boolean }
  | { type: 'close'; code: number; message: string }
  | { type: 'incoming'; message: IncomingMessage }
  | { type: 'status'; waMessageId: string; status: DeliveryStatus | 'error'; at: Date };

export interface EngineConnectOptions {
  sessionId: string;
  auth: { state: AuthenticationState; saveCreds: () => Promise<void> };
  /** Called for every event, in order. Must not throw. */
  onEvent: (event: EngineEvent) => void;
  /** A stored outgoing message, for re-sends the recipient asks for (retry receipts). */
  findOutgoing: (waMessageId: string) => Promise<OutgoingMessage | undefined>;
  /** Log fields every line of this connection carries. */
  logContext?: Record<string, unknown>;
}

/** One open WhatsApp Web socket. */
export abstract class EngineConnection {
  /**
   * Sends with the given WhatsApp id and resolves on WhatsApp's server ack
   * (not when the stanza is written; `onWritten` is told then). Throws `SendError`.
   */
  abstract send(message: OutgoingMessage, waMessageId: string, timeoutMs: number, onWritten?: () => void): Promise<{ ackAt: Date }>;
  abstract requestPairingCode(phoneNumber: string): Promise<string>;
  /** Unlinks the device at WhatsApp, then closes. */
  abstract logout(): Promise<void>;
  /** Closes the socket without unlinking; no event is reported for a close asked for. */
  abstract close(): void;
}

/**
 * The port every WhatsApp implementation fills (Baileys today). The sessions
 * library drives it; nothing else imports the adapter.
 */
export abstract class WhatsAppEngine {
  abstract connect(options: EngineConnectOptions): EngineConnection;
}
