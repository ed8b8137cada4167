/** Public shapes of the emulator, shared by the in-process API and the control API. */

/** Behaviour switches of one simulated account. */
export interface PhoneOptions {
  /** Send a delivery receipt for every message the phone receives (default true). */
  autoDeliveryReceipt: boolean;
  /** Also send a read receipt (default false). */
  autoReadReceipt: boolean;
  /** An offline phone holds incoming messages and sends no receipts until it is online again (default true). */
  online: boolean;
  /** Delay, in ms, before the server acks a message sent by this account's linked devices (default 0). */
  ackLatencyMs: number;
  /** At most `max` sends per `windowMs` from this account's linked devices; excess sends get an error ack. Null: no limit. */
  sendRateLimit: { max: number; windowMs: number; errorCode?: string } | null;
}

export interface CreatePhoneInput extends Partial<PhoneOptions> {
  /** Digits only, country code included (a leading "+" is accepted). */
  phoneNumber: string;
  pushName?: string;
}

/** A message a simulated account received, decrypted. */
export interface ReceivedMessage {
  id: string;
  /** Sender account as a phone-number JID (`5511...@s.whatsapp.net`). */
  from: string;
  /** Sender device as a JID (`5511...:1@s.whatsapp.net`). */
  fromDevice: string;
  /** `text`, `reaction`, `location`, `contact`, `poll`, `image`, ... or `unknown`. */
  type: string;
  /** Human-readable content where it makes sense (text, caption, emoji, poll name, contact name, place). */
  text?: string;
  receivedAt: string;
  /** The decrypted protobuf as a plain object, for assertions beyond `type`/`text`. */
  content: Record<string, unknown>;
}

/** Faults injected on the connection(s) of an account's linked devices. */
export type Fault =
  /** Close the socket abruptly (Baileys: 428). */
  | { type: 'drop'; deviceId?: number }
  /** `<conflict type='replaced'/>` (440). */
  | { type: 'conflict'; deviceId?: number }
  /** Remove the linked device (401); it can no longer log in. */
  | { type: 'logout'; deviceId?: number }
  /** `stream:error code='515'`. */
  | { type: 'restart-required'; deviceId?: number }
  /** `stream:error` with a code (503) or without a known child (500). */
  | { type: 'stream-error'; code?: 500 | 503; deviceId?: number }
  /** `<failure reason='403'/>` (or another reason). */
  | { type: 'failure'; reason?: number; deviceId?: number }
  /** Stop answering anything, pings included (Baileys: 408 after its keep-alive window). */
  | { type: 'stall'; deviceId?: number }
  /** Answer the next `count` sends (default: until cleared) with `<ack error=code>` (default 479). */
  | { type: 'ack-error'; code?: string; count?: number }
  /** Delay server acks by `ms`. */
  | { type: 'ack-latency'; ms: number }
  /** Clear ack errors, ack latency and stalls. */
  | { type: 'clear' };

export type FaultType = Fault['type'];

export const FAULT_TYPES: readonly FaultType[] = [
  'drop',
  'conflict',
  'logout',
  'restart-required',
  'stream-error',
  'failure',
  'stall',
  'ack-error',
  'ack-latency',
  'clear',
];

/** Counters and state of one account, for assertions and the control API. */
export interface PhoneSnapshot {
  phoneNumber: string;
  jid: string;
  lid: string;
  pushName: string;
  options: PhoneOptions;
  received: number;
  duplicates: number;
  pendingWhileOffline: number;
  linkedDevices: Array<{ deviceId: number; jid: string; connected: boolean; queued: number }>;
  counters: { sendsAccepted: number; sendsRejected: number; receiptsSent: number; messagesSent: number; privacyTokensIssued: number };
}
