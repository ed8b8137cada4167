import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { DatabaseSessionLeases, LeaseKeeper, LeaseLostError, type Lease, type LeaseLossReason, type LeaseTiming } from '../../libs/sessions/src/ownership';
import { waitFor } from '../support/services';

/** A database with the core schema and the ownership migrations, and how to remove it. */
export interface LeaseDatabase {
  dataSource: DataSource;
  destroy(): Promise<void>;
}

// Short enough that the keeper tests renew many times per second.
export const FAST: LeaseTiming = { ttlMs: 4000, renewIntervalMs: 100, safetyMarginMs: 1500 };

export async function createSession(ds: DataSource, columns: { desired?: string; deleted?: boolean } = {}): Promise<string> {
  const [{ id }] = await ds.query(
    `INSERT INTO sessions (label, desired_state, deleted_at) VALUES ('lease test', $1, ${columns.deleted ? 'now()' : 'NULL'}) RETURNING id`,
    [columns.desired ?? 'running'],
  );
  return id;
}

/** Ends a lease in the database without waiting for it: what the passing of time would do. */
export async function expire(ds: DataSource, sessionId: string): Promise<void> {
  await ds.query(`UPDATE session_leases SET expires_at = now() - interval '1 second' WHERE session_id = $1`, [sessionId]);
}

/** The behaviour of DatabaseSessionLeases, run against PGlite and PostgreSQL. */
export function leaseContract(name: string, open: () => Promise<LeaseDatabase>): void {
  describe(`session leases: ${name}`, () => {
    let db: LeaseDatabase;
    let ds: DataSource;
    let leases: DatabaseSessionLeases;
    const keepers: LeaseKeeper[] = [];

    beforeAll(async () => {
      db = await open();
      ds = db.dataSource;
      leases = new DatabaseSessionLeases(ds, FAST);
    });

    afterAll(async () => {
      for (const k of keepers) k.stop();
      await db?.destroy();
    });

    it('acquires, renews and releases; the next holder gets a higher epoch', async () => {
      const id = await createSession(ds);
      const lease = (await leases.acquire(id, 'worker-a'))!;
      expect(lease).toMatchObject({ sessionId: id, owner: 'worker-a', epoch: 1 });
      expect(await leases.isCurrent(lease)).toBe(true);

      const renewed = (await leases.renew(lease))!;
      expect(renewed.epoch).toBe(1);
      expect(renewed.expiresAt.getTime()).toBeGreaterThanOrEqual(lease.expiresAt.getTime());
      expect(renewed.localDeadline).toBeGreaterThan(lease.localDeadline);

      await leases.release(renewed);
      expect(await leases.isCurrent(renewed)).toBe(false);
      expect(await leases.renew(renewed)).toBeNull();
      const next = (await leases.acquire(id, 'worker-b'))!;
      expect(next.epoch).toBe(2);
    });

    it('refuses a second owner while the lease is unexpired', async () => {
      const id = await createSession(ds);
      const first = (await leases.acquire(id, 'worker-a'))!;
      expect(await leases.acquire(id, 'worker-b')).toBeNull();
      expect(await leases.isCurrent(first)).toBe(true);
      // A release of someone else's epoch changes nothing.
      await leases.release({ ...first, owner: 'worker-b' });
      expect(await leases.isCurrent(first)).toBe(true);
    });

    it('lets another owner take over an expired lease with epoch+1; the former holder can no longer renew', async () => {
      const id = await createSession(ds);
      const old = (await leases.acquire(id, 'worker-a'))!;
      await expire(ds, id);
      expect(await leases.isCurrent(old)).toBe(false);
      const taken = (await leases.acquire(id, 'worker-b'))!;
      expect(taken).toMatchObject({ owner: 'worker-b', epoch: old.epoch + 1 });
      expect(await leases.renew(old)).toBeNull();
      expect(await leases.isCurrent(old)).toBe(false);
      expect(await leases.isCurrent(taken)).toBe(true);
    });

    it('bumps the epoch when the same owner acquires again, fencing its own older lease', async () => {
      const id = await createSession(ds);
      const first = (await leases.acquire(id, 'worker-a'))!;
      const second = (await leases.acquire(id, 'worker-a'))!;
      expect(second.epoch).toBe(first.epoch + 1);
      expect(await leases.renew(first)).toBeNull();
      expect(await leases.isCurrent(first)).toBe(false);
      expect(await leases.renew(second)).not.toBeNull();
    });

    it('cannot acquire a deleted or unknown session', async () => {
      expect(await leases.acquire(await createSession(ds, { deleted: true }), 'worker-a')).toBeNull();
      expect(await leases.acquire('00000000-0000-4000-8000-000000000000', 'worker-a')).toBeNull();
    });

    it('assertCurrent lets the holder write and refuses a stale writer, whose writes are rolled back', async () => {
      const id = await createSession(ds);
      const stale = (await leases.acquire(id, 'worker-a'))!;
      await expire(ds, id);
      const current = (await leases.acquire(id, 'worker-b'))!;
      const writeLabel = (lease: Lease, label: string) =>
        ds.transaction(async (manager) => {
          await manager.query(`UPDATE sessions SET label = $2 WHERE id = $1`, [id, label]);
          await leases.assertCurrent(manager, lease);
          await manager.query(`UPDATE sessions SET meta = '{"written": true}' WHERE id = $1`, [id]);
        });

      await expect(writeLabel(stale, 'by the stale writer')).rejects.toBeInstanceOf(LeaseLostError);
      const [untouched] = await ds.query(`SELECT label, meta FROM sessions WHERE id = $1`, [id]);
      expect(untouched).toEqual({ label: 'lease test', meta: {} });

      await writeLabel(current, 'by the holder');
      const [written] = await ds.query(`SELECT label, meta FROM sessions WHERE id = $1`, [id]);
      expect(written).toEqual({ label: 'by the holder', meta: { written: true } });

      await expire(ds, id);
      await expect(writeLabel(current, 'after expiry')).rejects.toMatchObject({ name: 'LeaseLostError', sessionId: id, epoch: current.epoch });
    });

    it('lists sessions that should run and are free or expired', async () => {
      const free = await createSession(ds);
      const expired = await createSession(ds);
      const held = await createSession(ds);
      const stopped = await createSession(ds, { desired: 'stopped' });
      const deleted = await createSession(ds, { deleted: true });
      await leases.acquire(expired, 'worker-a');
      await expire(ds, expired);
      await leases.acquire(held, 'worker-a');
      const claimable = await leases.listClaimable(10_000);
      expect(claimable).toEqual(expect.arrayContaining([free, expired]));
      for (const id of [held, stopped, deleted]) expect(claimable).not.toContain(id);
      expect(await leases.listClaimable(1)).toHaveLength(1);
    });

    it('sets the local deadline before the database expiry, by at least the safety margin', async () => {
      const id = await createSession(ds);
      const lease = (await leases.acquire(id, 'worker-a'))!;
      const localRemaining = lease.localDeadline - performance.now();
      const [{ now }] = await ds.query(`SELECT now() AS now`);
      const databaseRemaining = lease.expiresAt.getTime() - new Date(now).getTime();
      expect(localRemaining).toBeLessThanOrEqual(FAST.ttlMs - FAST.safetyMarginMs);
      expect(localRemaining).toBeLessThan(databaseRemaining - FAST.safetyMarginMs / 2);
    });

    it('keeper renews the lease while it is held', async () => {
      const id = await createSession(ds);
      const lease = (await leases.acquire(id, 'worker-a'))!;
      let renewals = 0;
      const lost: LeaseLossReason[] = [];
      const keeper = new LeaseKeeper(leases, lease, { onLost: (r) => lost.push(r), onRenewed: () => renewals++ }).start();
      keepers.push(keeper);
      await waitFor(() => renewals >= 3, { what: 'three renewals' });
      expect(keeper.current.expiresAt.getTime()).toBeGreaterThan(lease.expiresAt.getTime());
      expect(await leases.isCurrent(keeper.current)).toBe(true);
      expect(lost).toEqual([]);
      keeper.stop();
    });

    it('keeper calls onLost once when the lease is taken over', async () => {
      const id = await createSession(ds);
      const lease = (await leases.acquire(id, 'worker-a'))!;
      const lost: LeaseLossReason[] = [];
      keepers.push(new LeaseKeeper(leases, lease, { onLost: (r) => lost.push(r) }).start());
      await expire(ds, id);
      expect(await leases.acquire(id, 'worker-b')).not.toBeNull();
      await waitFor(() => lost.length > 0, { what: 'onLost' });
      expect(lost).toEqual(['lost']);
    });
  });
}

/** A SessionLeases whose renewals never answer, like a database behind a dead network. */
export function hangingLeases(timing: LeaseTiming = FAST) {
  return {
    timing,
    renew: () => new Promise<Lease | null>(() => undefined),
  } as unknown as DatabaseSessionLeases;
}
