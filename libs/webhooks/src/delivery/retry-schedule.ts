/**
 * `Retry-After` in ms: delay-seconds or an HTTP date. Null when absent or
 * unreadable (then the schedule alone decides).
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * Delay before the next attempt after attempt number `attemptsInRun` (1-based,
 * counted since the delivery was created or last replayed) failed, or null
 * when the schedule is spent. A receiver's Retry-After can lengthen the wait
 * (up to `retryAfterMaxMs`), never shorten it.
 */
export function nextAttemptDelayMs(scheduleMs: readonly number[], attemptsInRun: number, retryAfterMs: number | null, retryAfterMaxMs: number): number | null {
  if (attemptsInRun >= scheduleMs.length) return null;
  const scheduled = scheduleMs[attemptsInRun];
  return retryAfterMs === null ? scheduled : Math.max(scheduled, Math.min(retryAfterMs, retryAfterMaxMs));
}
