/** How webhook deliveries are retried, timed out and given up on. */
export interface WebhookDeliverySettings {
  /** Delay before each attempt, the first one included (its delay is normally 0); the length is the number of attempts. */
  retryScheduleMs: number[];
  /** Upper bound on a receiver's `Retry-After`, so one answer cannot park a delivery for days. */
  retryAfterMaxMs: number;
  /** One HTTP request, connect to last byte. */
  timeoutMs: number;
  /** After a secret rotation, deliveries carry the old signature too for this long. */
  secretOverlapMs: number;
  /** An endpoint whose every delivery has failed for this long is disabled. */
  disableAfterMs: number;
  /** Deliveries in flight per process, all endpoints together. */
  concurrency: number;
  /** Deliveries in flight per process to one subscription. */
  maxInFlightPerEndpoint: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The Standard Webhooks schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
export const STANDARD_RETRY_SCHEDULE_MS: readonly number[] = [0, 5000, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 14 * HOUR, 20 * HOUR, 24 * HOUR];

type Read = (name: string) => string | undefined;
type Integer = (name: string, fallback: number, min: number, max: number) => number;

/**
 * WEBHOOK_RETRY_SCHEDULE is a comma-separated list of delays in ms (tests
 * compress the standard one to a few ms) or `xF`, the standard schedule
 * scaled by the factor F (`x0.001`).
 */
export function parseWebhookDeliverySettings(read: Read, integer: Integer, problems: string[]): WebhookDeliverySettings {
  return {
    retryScheduleMs: parseSchedule(read('WEBHOOK_RETRY_SCHEDULE'), problems),
    retryAfterMaxMs: integer('WEBHOOK_RETRY_AFTER_MAX_MS', 6 * HOUR, 0, 48 * HOUR),
    timeoutMs: integer('WEBHOOK_TIMEOUT_MS', 10_000, 50, 120_000),
    secretOverlapMs: integer('WEBHOOK_SECRET_OVERLAP_MS', 24 * HOUR, 0, 30 * 24 * HOUR),
    disableAfterMs: integer('WEBHOOK_DISABLE_AFTER_MS', 5 * 24 * HOUR, 1, 90 * 24 * HOUR),
    concurrency: integer('WEBHOOK_CONCURRENCY', 64, 1, 1000),
    maxInFlightPerEndpoint: integer('WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT', 10, 1, 1000),
  };
}

function parseSchedule(raw: string | undefined, problems: string[]): number[] {
  if (raw === undefined) return [...STANDARD_RETRY_SCHEDULE_MS];
  const scale = /^x(\d+(\.\d+)?)$/.exec(raw);
  if (scale) return STANDARD_RETRY_SCHEDULE_MS.map((ms) => Math.round(ms * Number(scale[1])));
  const delays = raw.split(',').map((part) => Number(part.trim()));
  if (delays.length > 50 || delays.some((ms) => !Number.isInteger(ms) || ms < 0 || ms > 7 * 24 * HOUR)) {
    problems.push(`WEBHOOK_RETRY_SCHEDULE must be up to 50 comma-separated delays in ms (0 to 7 days) or "x<factor>" (got "${raw}")`);
    return [...STANDARD_RETRY_SCHEDULE_MS];
  }
  return delays;
}
