import type { EntityManager } from 'typeorm';

/**
 * The right to run one session's socket. `epoch` is the fencing token: it
 * grows with every acquisition, so a write stamped with an older epoch can be
 * recognised and refused after someone else has taken over.
 */
export interface Lease {
  sessionId: string;
  owner: string;
  epoch: number;
  /** When the lease ends, by the database clock. */
  expiresAt: Date;
  /** `performance.now()` ms: the holder must have stopped using the session (no sends, no writes, socket closed) before this. */
  localDeadline: number;
}

export class LeaseLostError extends Error {
  readonly sessionId: string;
  readonly epoch: number;

  constructor(lease: Pick<Lease, 'sessionId' | 'epoch'>, reason = 'is no longer current') {
    super(`The lease on session ${lease.sessionId} at epoch ${lease.epoch} ${reason}`);
    this.name = 'LeaseLostError';
    this.sessionId = lease.sessionId;
    this.epoch = lease.epoch;
  }
}

/** How long a lease lives, how often its holder renews it, and how early the holder stops on its own. */
export interface LeaseTiming {
  ttlMs: number;
  renewIntervalMs: number;
  /** The local deadline is `request start + ttlMs - safetyMarginMs`, so a holder is gone before the lease can expire in the database. */
  safetyMarginMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { ttlMs: 30_000, renewIntervalMs: 10_000, safetyMarginMs: 5000 };

/**
 * Session ownership kept in the database, timed by the database clock. A
 * socket is opened only under a lease; writes of session state are fenced
 * with `assertCurrent` inside the writer's transaction.
 */
export abstract class SessionLeases {
  /** Null when another owner's lease is unexpired; takes over an expired one with epoch+1; a re-acquire by the same owner also bumps the epoch. */
  abstract acquire(sessionId: string, owner: string): Promise<Lease | null>;
  /** The extended lease, or null when it is lost (epoch changed or expired). */
  abstract renew(lease: Lease): Promise<Lease | null>;
  /** Gives the lease up, only if it is still at that epoch. The epoch is kept, so the next holder gets a higher one. */
  abstract release(lease: Lease): Promise<void>;
  /** Database check: same owner and epoch, unexpired. */
  abstract isCurrent(lease: Lease): Promise<boolean>;
  /** Inside a caller's transaction: throws LeaseLostError unless the lease is current; locks the lease row so the check and the caller's writes commit together. */
  abstract assertCurrent(manager: EntityManager, lease: Lease): Promise<void>;
  /**
   * The same check as `assertCurrent` as an SQL condition, for a single
   * statement that writes only while the lease is current: one round trip
   * instead of a transaction of three. The arguments are SQL expressions
   * (parameters, or columns of rows that each name their own lease). The
   * lease row is locked for the statement, as in `assertCurrent`.
   */
  abstract currentCondition(lease: { sessionId: string; owner: string; epoch: string }): string;
  /** Sessions that should run and nobody holds (no lease, or an expired one): candidates for restore and takeover. */
  abstract listClaimable(limit: number): Promise<string[]>;
  abstract readonly timing: LeaseTiming;
}
