/** How the worker runs WhatsApp sockets: reconnects, restore waves, send acks. */
export interface SessionRuntimeSettings {
  reconnectBaseDelayMs: number;
  reconnectMaxDelayMs: number;
  /** Restarts allowed within the window before a session is marked failed. */
  maxRestarts: number;
  restartWindowMs: number;
  /** An open that lasts this long clears the restart history. */
  stableAfterMs: number;
  sendAckTimeoutMs: number;
  restoreConcurrency: number;
  restoreJitterMs: number;
  reconcileIntervalMs: number;
  commandPollMs: number;
  /** Verify WhatsApp's certificate chain and account signatures strictly (Baileys 7 does not). */
  strictSignatures: boolean;
  /** Ask WhatsApp whether a number exists before the first send to it. */
  verifyRecipients: boolean;
}

type Integer = (name: string, fallback: number, min: number, max: number) => number;
type Boolean = (name: string, fallback: boolean) => boolean;

export function parseSessionRuntimeSettings(integer: Integer, boolean: Boolean): SessionRuntimeSettings {
  return {
    reconnectBaseDelayMs: integer('SESSION_RECONNECT_BASE_MS', 1000, 1, 600_000),
    reconnectMaxDelayMs: integer('SESSION_RECONNECT_MAX_MS', 60_000, 1, 3_600_000),
    maxRestarts: integer('SESSION_MAX_RESTARTS', 8, 1, 1000),
    restartWindowMs: integer('SESSION_RESTART_WINDOW_MS', 5 * 60_000, 1000, 24 * 3_600_000),
    stableAfterMs: integer('SESSION_STABLE_AFTER_MS', 60_000, 0, 3_600_000),
    sendAckTimeoutMs: integer('SEND_ACK_TIMEOUT_MS', 15_000, 100, 300_000),
    restoreConcurrency: integer('SESSION_RESTORE_CONCURRENCY', 25, 1, 1000),
    restoreJitterMs: integer('SESSION_RESTORE_JITTER_MS', 200, 0, 60_000),
    reconcileIntervalMs: integer('SESSION_RECONCILE_INTERVAL_MS', 5000, 50, 600_000),
    commandPollMs: integer('SESSION_COMMAND_POLL_MS', 500, 10, 60_000),
    strictSignatures: boolean('WA_STRICT_SIGNATURES', true),
    verifyRecipients: boolean('WA_VERIFY_RECIPIENTS', true),
  };
}
