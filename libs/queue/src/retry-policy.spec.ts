import { PermanentJobError } from './errors';
import { DEFAULT_RETRY_POLICY, RetryPolicies, backoffDelayMs, decideAfterFailure, isPermanentFailure, queueFamily, type RetryPolicy } from './retry-policy';

describe('retry policy', () => {
  it('defaults to 5 attempts, 1 s base, factor 2', () => {
    expect(DEFAULT_RETRY_POLICY).toMatchObject({ attempts: 5, baseDelayMs: 1000, factor: 2 });
  });

  it('grows the delay exponentially from the base, capped by maxDelayMs', () => {
    const policy: RetryPolicy = { attempts: 10, baseDelayMs: 1000, factor: 2, maxDelayMs: 10_000 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(policy, attempt))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backoffDelayMs({ ...policy, factor: 3, baseDelayMs: 100 }, 3)).toBe(900);
  });

  it('retries a transient failure until the last attempt, then gives up', () => {
    const policy = { ...DEFAULT_RETRY_POLICY };
    expect(decideAfterFailure(policy, 1, new Error('timeout'))).toEqual({ final: false, delayMs: 1000 });
    expect(decideAfterFailure(policy, 4, new Error('timeout'))).toEqual({ final: false, delayMs: 8000 });
    expect(decideAfterFailure(policy, 5, new Error('timeout'))).toEqual({ final: true, reason: 'attempts-exhausted' });
  });

  it('gives up at once on a permanent error, even on the first attempt', () => {
    expect(decideAfterFailure(DEFAULT_RETRY_POLICY, 1, new PermanentJobError('not on WhatsApp'))).toEqual({ final: true, reason: 'permanent' });
  });

  it('recognises a permanent error by name when it crossed a realm', () => {
    const copy = Object.assign(new Error('bad'), { name: 'PermanentJobError' });
    expect(isPermanentFailure(copy)).toBe(true);
    expect(isPermanentFailure(new Error('bad'))).toBe(false);
    expect(isPermanentFailure('PermanentJobError')).toBe(false);
  });

  it('resolves default < config default < family < exact queue < job override', () => {
    const policies = new RetryPolicies({
      default: { attempts: 4 },
      queues: { 'message-send': { baseDelayMs: 500 }, 'message-send.vip': { attempts: 8 } },
    });
    expect(policies.resolve('webhook-delivery')).toEqual({ ...DEFAULT_RETRY_POLICY, attempts: 4 });
    expect(policies.resolve('message-send.s1')).toMatchObject({ attempts: 4, baseDelayMs: 500 });
    expect(policies.resolve('message-send.vip')).toMatchObject({ attempts: 8, baseDelayMs: 500 });
    expect(policies.resolve('message-send.vip', { attempts: 1 })).toMatchObject({ attempts: 1, baseDelayMs: 500 });
  });

  it('rejects a policy that cannot work, at configuration time', () => {
    expect(() => new RetryPolicies({ default: { attempts: 0 } })).toThrow(/attempts/);
    expect(() => new RetryPolicies({ queues: { 'message-send': { factor: 0.5 } } })).toThrow(/factor/);
    expect(() => new RetryPolicies().resolve('q', { maxDelayMs: 10 })).toThrow(/maxDelayMs/);
  });

  it('takes the family of a per-key queue name', () => {
    expect(queueFamily('message-send.abc')).toBe('message-send');
    expect(queueFamily('webhook-delivery')).toBe('webhook-delivery');
  });
});
