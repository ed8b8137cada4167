/**
 * Stores what WhatsApp reported (an incoming message, a receipt), trying again
 * when the store fails. WhatsApp does not report it twice: Baileys has already
 * acknowledged the message to the server, so a write given up on is a message
 * or status lost. The failures worth waiting out are short (a database
 * restart or failover, a full connection pool, a serialization conflict), so
 * the attempts back off exponentially over some seconds; the session's
 * following events wait meanwhile, which keeps them in order.
 */
export interface PersistentWriteOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Wait before the second attempt; it doubles with each further one. */
  firstDelayMs: number;
  /** Told of each failed attempt that will be tried again. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export const EVENT_WRITE_RETRIES: PersistentWriteOptions = { attempts: 7, firstDelayMs: 100 };

export async function persistentWrite<T>(write: () => Promise<T>, options: PersistentWriteOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= options.attempts) throw error;
      const delayMs = options.firstDelayMs * 2 ** (attempt - 1);
      options.onRetry?.(error, attempt, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
