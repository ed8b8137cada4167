import { performance } from 'node:perf_hooks';
import type { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../../../persistence/src/query-rows';
import { DEFAULT_LEASE_TIMING, Lease, LeaseLostError, LeaseTiming, SessionLeases } from './session-leases';

interface LeaseRow {
  epoch: string | number;
  expires_at: Date | string;
}

/**
 * Leases in the `session_leases` table. Every decision about time is taken by
 * the database (`now()`), so the holders' clocks never matter; each holder
 * only measures its own elapsed time (`performance.now()`) to stop before the
 * database could give the session to someone else.
 */
export class DatabaseSessionLeases extends SessionLeases {
  readonly timing: LeaseTiming;
  private readonly pendingRenewals: Array<{ lease: Lease; resolve: (lease: Lease | null) => void; reject: (error: unknown) => void }> = [];
  private renewFlush?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    timing: Partial<LeaseTiming> = {},
    /** How long a renewal waits for others to share its statement; small against the renew interval. */
    private readonly renewBatchWindowMs = Math.min(250, Math.floor((timing.renewIntervalMs ?? DEFAULT_LEASE_TIMING.renewIntervalMs) / 20)),
  ) {
    super();
    this.timing = { ...DEFAULT_LEASE_TIMING, ...timing };
    if (this.timing.renewIntervalMs >= this.timing.ttlMs - this.timing.safetyMarginMs) {
      throw new Error('renewIntervalMs must be shorter than ttlMs - safetyMarginMs, or a holder stops before its first renewal');
    }
  }

  async acquire(sessionId: string, owner: string): Promise<Lease | null> {
    const started = performance.now();
    // One statement, so two acquirers cannot both win: the loser's ON CONFLICT
    // waits for the winner's row and then finds it unexpired and foreign.
    // Sessions that are deleted (or missing) cannot be acquired at all.
    const rows = await queryRows<LeaseRow>(
      this.dataSource,
      `INSERT INTO session_leases (session_id, owner, epoch, expires_at, acquired_at, renewed_at)
       SELECT s.id, $2, 1, now() + $3::int * interval '1 millisecond', now(), now()
         FROM sessions s WHERE s.id = $1 AND s.deleted_at IS NULL
       ON CONFLICT (session_id) DO UPDATE
         SET owner = EXCLUDED.owner, epoch = session_leases.epoch + 1, expires_at = EXCLUDED.expires_at,
             acquired_at = EXCLUDED.acquired_at, renewed_at = EXCLUDED.renewed_at
         WHERE session_leases.expires_at <= now() OR session_leases.owner = EXCLUDED.owner
       RETURNING epoch, expires_at`,
      [sessionId, owner, this.timing.ttlMs],
    );
    return rows[0] ? this.toLease(sessionId, owner, rows[0], started) : null;
  }

  /**
   * Renewals that arrive within `renewBatchWindowMs` of each other share one
   * statement: a worker holding hundreds of sessions renews them in a handful
   * of statements per interval instead of one each. Each lease's local
   * deadline still counts from before the statement was sent.
   */
  renew(lease: Lease): Promise<Lease | null> {
    return new Promise((resolve, reject) => {
      this.pendingRenewals.push({ lease, resolve, reject });
      this.renewFlush ??= setTimeout(() => void this.flushRenewals(), this.renewBatchWindowMs);
    });
  }

  private async flushRenewals(): Promise<void> {
    this.renewFlush = undefined;
    const batch = this.pendingRenewals.splice(0);
    if (batch.length === 0) return;
    const started = performance.now();
    try {
      const rows = await queryRows<LeaseRow & { session_id: string }>(
        this.dataSource,
        `UPDATE session_leases l SET expires_at = now() + $2::int * interval '1 millisecond', renewed_at = now()
           FROM jsonb_to_recordset($1::jsonb) AS h(session_id uuid, owner text, epoch bigint)
          WHERE l.session_id = h.session_id AND l.owner = h.owner AND l.epoch = h.epoch AND l.expires_at > now()
         RETURNING l.session_id, l.epoch, l.expires_at`,
        [JSON.stringify(batch.map(({ lease }) => ({ session_id: lease.sessionId, owner: lease.owner, epoch: lease.epoch }))), this.timing.ttlMs],
      );
      const renewed = new Map(rows.map((row) => [`${row.session_id}:${row.epoch}`, row]));
      for (const { lease, resolve } of batch) {
        const row = renewed.get(`${lease.sessionId}:${lease.epoch}`);
        resolve(row ? this.toLease(lease.sessionId, lease.owner, row, started) : null);
      }
    } catch (error) {
      for (const { reject } of batch) reject(error);
    }
  }

  async release(lease: Lease): Promise<void> {
    // Expire rather than delete: the row keeps the epoch, so the next holder gets a higher one.
    await this.dataSource.query(
      `UPDATE session_leases SET expires_at = now() WHERE session_id = $1 AND owner = $2 AND epoch = $3 AND expires_at > now()`,
      [lease.sessionId, lease.owner, lease.epoch],
    );
  }

  async isCurrent(lease: Lease): Promise<boolean> {
    const rows = await queryRows(
      this.dataSource,
      `SELECT 1 FROM session_leases WHERE session_id = $1 AND owner = $2 AND epoch = $3 AND expires_at > now()`,
      [lease.sessionId, lease.owner, lease.epoch],
    );
    return rows.length > 0;
  }

  async assertCurrent(manager: EntityManager, lease: Lease): Promise<void> {
    const rows = await queryRows(manager, `SELECT ${this.currentCondition({ sessionId: '$1', owner: '$2', epoch: '$3' })} AS current`, [lease.sessionId, lease.owner, lease.epoch]);
    if ((rows[0] as { current?: boolean } | undefined)?.current !== true) throw new LeaseLostError(lease);
  }

  currentCondition(lease: { sessionId: string; owner: string; epoch: string }): string {
    // clock_timestamp(), not now(): now() is the start of the caller's
    // transaction, which may be older than the lease's expiry. FOR SHARE makes
    // a takeover (which updates this row) wait until the caller has committed,
    // so the caller's writes are ordered before the new holder's epoch.
    return `EXISTS (SELECT 1 FROM session_leases l WHERE l.session_id = ${lease.sessionId} AND l.owner = ${lease.owner} AND l.epoch = ${lease.epoch} AND l.expires_at > clock_timestamp() FOR SHARE)`;
  }

  async listClaimable(limit: number): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      this.dataSource,
      `SELECT s.id FROM sessions s LEFT JOIN session_leases l ON l.session_id = s.id
        WHERE s.desired_state = 'running' AND s.deleted_at IS NULL AND (l.session_id IS NULL OR l.expires_at <= now())
        ORDER BY l.expires_at ASC NULLS FIRST, s.created_at, s.id
        LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  private toLease(sessionId: string, owner: string, row: LeaseRow, started: number): Lease {
    return {
      sessionId,
      owner,
      epoch: Number(row.epoch),
      expiresAt: new Date(row.expires_at),
      // Measured from before the request was sent: the database may have stamped the expiry at any moment after that.
      localDeadline: started + this.timing.ttlMs - this.timing.safetyMarginMs,
    };
  }
}
