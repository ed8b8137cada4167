import type { DeliveryStatus } from '../../contracts/src';

/**
 * The status lifecycle of API.md. Outgoing: queued -> sending -> sent ->
 * delivered -> read (-> played), `retrying` between attempts, `failed` terminal.
 * Incoming messages are `received`.
 */
export type OutgoingStatus = 'queued' | 'sending' | 'retrying' | 'sent' | 'delivered' | 'read' | 'played' | 'failed';
export type MessageStatus = OutgoingStatus | 'received';
export const MESSAGE_STATUSES: readonly MessageStatus[] = ['queued', 'sending', 'retrying', 'sent', 'delivered', 'read', 'played', 'failed', 'received'];

/**
 * How far a message got. Receipts only move a message forward, so a late
 * `delivered` after `read` changes nothing. `retrying` ranks with `queued`:
 * both mean "not yet handed to WhatsApp".
 */
const RANK: Record<OutgoingStatus, number> = { queued: 0, retrying: 0, sending: 1, sent: 2, delivered: 3, read: 4, played: 5, failed: -1 };

export const statusRank = (status: OutgoingStatus): number => RANK[status];

/** True when a receipt or ack of `next` should replace `current`. */
export function advancesTo(current: OutgoingStatus, next: DeliveryStatus): boolean {
  return RANK[next] > RANK[current];
}

/** The delivery statuses a message has passed through when it reaches `status` (a `read` implies `sent` and `delivered`). */
export function impliedDeliveryStatuses(status: DeliveryStatus): DeliveryStatus[] {
  const order: DeliveryStatus[] = ['sent', 'delivered', 'read', 'played'];
  return order.slice(0, order.indexOf(status) + 1);
}

/** SQL twin of `statusRank`, for updates that must compare atomically in the database. */
export const SQL_STATUS_RANK = `(CASE status WHEN 'sending' THEN 1 WHEN 'sent' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 WHEN 'played' THEN 5 WHEN 'failed' THEN -1 ELSE 0 END)`;
