/**
 * A write that is tried again when it fails, for what cannot be asked for
 * again (what WhatsApp reported once, say). The failures worth waiting out are
 * short (a database restart or failover, a full connection pool, a
 * serialization conflict), so the attempts back off exponentially over some
 * seconds. Each write retried this way must be safe to run twice: the failure
 * may come after the database applied it.
 */
export interface PersistentWriteOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Wait before the second attempt; it doubles with each further one. */
  firstDelayMs: number;
  /** Told of each failed attempt that will be tried again. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

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
