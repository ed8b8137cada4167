/** The events clients receive (webhooks, SSE). Names are part of the public contract (API.md). */
export type EventType = 'connection.status' | 'connection.qr' | 'message.received' | 'message.status' | 'message.failed';
export const EVENT_TYPES: readonly EventType[] = ['connection.status', 'connection.qr', 'message.received', 'message.status', 'message.failed'];

export interface DomainEvent<P extends Record<string, unknown> = Record<string, unknown>> {
  /**
   * Unique and deterministic where the fact is (e.g. `<session>:<message>:delivered`):
   * the same fact published twice (a retry after a crash) keeps one id, so
   * webhook deliveries dedupe on it and a client never sees one event under two ids.
   */
  id: string;
  type: EventType;
  sessionId: string;
  /** ISO 8601, UTC. */
  timestamp: string;
  payload: P;
}
