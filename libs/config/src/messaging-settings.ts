/** The send pipeline's settings (docs/MESSAGING.md). */
export interface MessagingSettings {
  /** Attempts per send, the first one included, before the message is failed and dead-lettered. */
  sendMaxAttempts: number;
  /** Delay before the second attempt; each further one doubles (up to 10 min). */
  sendRetryBaseDelayMs: number;
  /** How long an attempt waits for a reconnecting session before it counts as a failed attempt. */
  sendConnectWaitMs: number;
  /** Longest hold of `POST /send?wait=sent`; then 202 with the status at that time. */
  sendWaitTimeoutMs: number;
  /**
   * Sends of one connection under way at once (docs/MESSAGING.md, "Send
   * window"): each leaves once the one before it has been written to the
   * socket, without waiting for its server ack; 1 waits for each ack. The
   * pacing defaults space sends far more than an ack takes anyway.
   */
  sendWindow: number;
  /** Default pacing of every connection (a connection's `config.pacing` overrides it); 0 turns a limit off. */
  pacingMessagesPerMinute: number;
  pacingMinGapPerRecipientMs: number;
  /** Largest inline/remote image, video or audio (decoded bytes). */
  mediaMaxBytes: number;
  /** How often the worker looks for stored messages without a queue job. */
  reconcileIntervalMs: number;
  /** Longest download of media a send names by URL, redirects included. */
  mediaFetchTimeoutMs: number;
  /** Private hosts or addresses media URLs may name anyway (as `WEBHOOK_ALLOW_PRIVATE_HOSTS`); none by default. */
  mediaAllowPrivateHosts: string[];
}

type Integer = (name: string, fallback: number, min: number, max: number) => number;
type List = (name: string) => string[];

export function parseMessagingSettings(integer: Integer, list: List): MessagingSettings {
  return {
    sendMaxAttempts: integer('SEND_MAX_ATTEMPTS', 5, 1, 100),
    sendRetryBaseDelayMs: integer('SEND_RETRY_BASE_DELAY_MS', 2000, 1, 3_600_000),
    sendConnectWaitMs: integer('SEND_CONNECT_WAIT_MS', 30_000, 0, 600_000),
    sendWaitTimeoutMs: integer('SEND_WAIT_TIMEOUT_MS', 15_000, 100, 120_000),
    sendWindow: integer('SEND_WINDOW_PER_CONNECTION', 4, 1, 32),
    pacingMessagesPerMinute: integer('SEND_PACING_MESSAGES_PER_MINUTE', 20, 0, 6000),
    pacingMinGapPerRecipientMs: integer('SEND_PACING_MIN_GAP_PER_RECIPIENT_MS', 3000, 0, 3_600_000),
    mediaMaxBytes: integer('MEDIA_MAX_BYTES', 16 * 1024 * 1024, 1024, 2 * 1024 * 1024 * 1024),
    reconcileIntervalMs: integer('MESSAGE_RECONCILE_INTERVAL_MS', 60_000, 100, 3_600_000),
    mediaFetchTimeoutMs: integer('MEDIA_FETCH_TIMEOUT_MS', 60_000, 100, 3_600_000),
    mediaAllowPrivateHosts: list('MEDIA_ALLOW_PRIVATE_HOSTS'),
  };
}
