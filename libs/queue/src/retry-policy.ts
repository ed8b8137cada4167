import { PermanentJobError } from './errors';

/**
 * How a failed job is retried. Every driver asks this module, and only this
 * module, whether a failure is final and how long to wait before the next
 * attempt, so the product has one retry behaviour whatever the queue backend.
 */
export interface RetryPolicy {
  /** Total attempts, the first one included (5 = 1 try + 4 retries). */
  attempts: number;
  /** Delay before the second attempt. */
  baseDelayMs: number;
  /** Each further delay is the previous one times this factor. */
  factor: number;
  /** Upper bound on a single delay, so a long policy cannot park a job for days. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  attempts: 5,
  baseDelayMs: 1000,
  factor: 2,
  maxDelayMs: 60 * 60 * 1000,
});

/** What to do after attempt number `attempt` (1-based) failed. */
export type FailureDecision =
  | { final: false; delayMs: number }
  | { final: true; reason: 'permanent' | 'attempts-exhausted' };

/** Delay before the attempt that follows failed attempt `failedAttempt` (1-based). */
export function backoffDelayMs(policy: RetryPolicy, failedAttempt: number): number {
  const exponent = Math.max(0, failedAttempt - 1);
  return Math.round(Math.min(policy.maxDelayMs, policy.baseDelayMs * Math.pow(policy.factor, exponent)));
}

export function decideAfterFailure(policy: RetryPolicy, attempt: number, error: unknown): FailureDecision {
  if (isPermanentFailure(error)) return { final: true, reason: 'permanent' };
  if (attempt >= policy.attempts) return { final: true, reason: 'attempts-exhausted' };
  return { final: false, delayMs: backoffDelayMs(policy, attempt) };
}

/**
 * Recognises permanent failures by class and, across realms or serialisation
 * boundaries (a child process, a re-thrown copy), by name.
 */
export function isPermanentFailure(error: unknown): boolean {
  return error instanceof PermanentJobError || (error instanceof Error && error.name === PermanentJobError.name);
}

export function validateRetryPolicy(policy: RetryPolicy): RetryPolicy {
  const problems: string[] = [];
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1) problems.push(`attempts must be an integer >= 1 (got ${policy.attempts})`);
  if (!(policy.baseDelayMs >= 0)) problems.push(`baseDelayMs must be >= 0 (got ${policy.baseDelayMs})`);
  if (!(policy.factor >= 1)) problems.push(`factor must be >= 1 (got ${policy.factor})`);
  if (!(policy.maxDelayMs >= policy.baseDelayMs)) problems.push(`maxDelayMs must be >= baseDelayMs (got ${policy.maxDelayMs})`);
  if (problems.length > 0) throw new RangeError(`invalid retry policy: ${problems.join('; ')}`);
  return policy;
}

export interface RetryPolicyConfig {
  /** Overrides of the product default for every queue. */
  default?: Partial<RetryPolicy>;
  /**
   * Overrides per queue. A key matches a queue name exactly (`message-send.s1`,
   * one session) or its family (`message-send`, every session queue).
   */
  queues?: Record<string, Partial<RetryPolicy>>;
}

/**
 * Resolves the policy of one job: product default < config default < queue
 * family < exact queue (session) < the job's own override.
 */
export class RetryPolicies {
  private readonly base: RetryPolicy;
  private readonly queues: Record<string, Partial<RetryPolicy>>;

  constructor(config: RetryPolicyConfig = {}) {
    this.base = validateRetryPolicy({ ...DEFAULT_RETRY_POLICY, ...config.default });
    this.queues = config.queues ?? {};
    for (const key of Object.keys(this.queues)) this.resolve(key);
  }

  resolve(queue: string, override?: Partial<RetryPolicy>): RetryPolicy {
    const family = queueFamily(queue);
    return validateRetryPolicy({
      ...this.base,
      ...(family !== queue ? this.queues[family] : undefined),
      ...this.queues[queue],
      ...override,
    });
  }
}

/** `message-send.abc` -> `message-send`: the part before the per-key suffix. */
export function queueFamily(queue: string): string {
  const dot = queue.indexOf('.');
  return dot === -1 ? queue : queue.slice(0, dot);
}
