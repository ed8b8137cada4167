import { performance } from 'node:perf_hooks';
import type { Lease, SessionLeases } from './session-leases';

/** Why a holder has to stop: the database refused the renewal, or no renewal succeeded before the local deadline. */
export type LeaseLossReason = 'lost' | 'deadline';

export interface LeaseKeeperOptions {
  /** Defaults to the leases' configured renew interval. */
  renewIntervalMs?: number;
  /** Called once, at the moment the holder must stop using the session. */
  onLost: (reason: LeaseLossReason, lease: Lease) => void;
  onRenewed?: (lease: Lease) => void;
  /** A renewal that throws (database unreachable) is logged here and retried; the deadline still applies. */
  onRenewError?: (error: unknown) => void;
}

/**
 * Keeps one lease alive. The deadline is a timer of its own, independent of
 * the renewals: a process whose renewals hang (database unreachable, event
 * loop stalls between them) still gives the session up before the lease can
 * expire in the database.
 */
export class LeaseKeeper {
  private held: Lease;
  private renewTimer?: NodeJS.Timeout;
  private deadlineTimer?: NodeJS.Timeout;
  private renewing = false;
  private finished = false;
  private readonly renewIntervalMs: number;

  constructor(
    private readonly leases: SessionLeases,
    lease: Lease,
    private readonly options: LeaseKeeperOptions,
  ) {
    this.held = lease;
    this.renewIntervalMs = options.renewIntervalMs ?? leases.timing.renewIntervalMs;
  }

  /** The lease as last renewed. */
  get current(): Lease {
    return this.held;
  }

  /** True until the lease was lost or the keeper stopped. */
  get active(): boolean {
    return !this.finished;
  }

  start(): this {
    this.armDeadline();
    this.renewTimer = setInterval(() => void this.renewNow(), this.renewIntervalMs);
    return this;
  }

  /** Renews at once (also what the timer does); resolves false once the lease is gone. */
  async renewNow(): Promise<boolean> {
    if (this.finished) return false;
    if (this.renewing) return true;
    this.renewing = true;
    try {
      const renewed = await this.leases.renew(this.held);
      if (this.finished) return false;
      if (!renewed) {
        this.lose('lost');
        return false;
      }
      if (renewed.localDeadline <= performance.now()) {
        // The answer came back too late to be of any use.
        this.lose('deadline');
        return false;
      }
      this.held = renewed;
      this.armDeadline();
      this.options.onRenewed?.(renewed);
      return true;
    } catch (error) {
      this.options.onRenewError?.(error);
      return !this.finished;
    } finally {
      this.renewing = false;
    }
  }

  /** Stops renewing without calling onLost (the holder is giving the lease up itself). */
  stop(): void {
    this.finished = true;
    this.clearTimers();
  }

  private armDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    const remaining = Math.max(0, this.held.localDeadline - performance.now());
    this.deadlineTimer = setTimeout(() => this.lose('deadline'), remaining);
  }

  private lose(reason: LeaseLossReason): void {
    if (this.finished) return;
    this.finished = true;
    this.clearTimers();
    this.options.onLost(reason, this.held);
  }

  private clearTimers(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.renewTimer = undefined;
    this.deadlineTimer = undefined;
  }
}
