import { performance } from 'node:perf_hooks';
import { createDataSource, runMigrations } from '../../libs/persistence/src';
import { DatabaseSessionLeases, LeaseKeeper, sessionOwnershipMigrations, type LeaseLossReason } from '../../libs/sessions/src/ownership';
import { createTestDatabase, describeWithServices, waitFor } from '../support/services';
import { TcpProxy } from '../support/tcp-proxy';
import { createSession, expire, FAST, leaseContract } from './lease-contract';

async function openPostgres(url: string) {
  const dataSource = await createDataSource({ databaseUrl: url, migrations: sessionOwnershipMigrations });
  await dataSource.initialize();
  return dataSource;
}

describeWithServices(['postgres'], 'session leases on PostgreSQL', () => {
  leaseContract('PostgreSQL', async () => {
    const database = await createTestDatabase('leases');
    const dataSource = await openPostgres(database.url);
    await runMigrations(dataSource);
    return {
      dataSource,
      destroy: async () => {
        await dataSource.destroy();
        await database.drop();
      },
    };
  });

  describe('between processes', () => {
    let database: { url: string; drop: () => Promise<void> };
    let a: Awaited<ReturnType<typeof openPostgres>>;
    let b: Awaited<ReturnType<typeof openPostgres>>;
    let proxy: TcpProxy | undefined;
    let viaProxy: Awaited<ReturnType<typeof openPostgres>> | undefined;

    beforeAll(async () => {
      database = await createTestDatabase('leases');
      a = await openPostgres(database.url);
      await runMigrations(a);
      b = await openPostgres(database.url);
    });

    afterAll(async () => {
      await viaProxy?.destroy().catch(() => undefined);
      await a?.destroy();
      await b?.destroy();
      await database?.drop();
    });

    it('lets exactly one of two concurrent acquirers win, for fresh and for expired leases', async () => {
      const leasesA = new DatabaseSessionLeases(a, FAST);
      const leasesB = new DatabaseSessionLeases(b, FAST);
      const ids = await Promise.all(Array.from({ length: 20 }, () => createSession(a)));
      const fresh = await Promise.all(ids.map((id) => Promise.all([leasesA.acquire(id, 'worker-a'), leasesB.acquire(id, 'worker-b')])));
      for (const pair of fresh) expect(pair.filter(Boolean)).toHaveLength(1);

      for (const id of ids) await expire(a, id);
      const takeovers = await Promise.all(ids.map((id) => Promise.all([leasesA.acquire(id, 'worker-c'), leasesB.acquire(id, 'worker-d')])));
      for (const pair of takeovers) {
        const winners = pair.filter(Boolean);
        expect(winners).toHaveLength(1);
        expect(winners[0]!.epoch).toBe(2);
      }
    });

    it('a takeover waits for a fenced write in progress, so the write is ordered before the new epoch', async () => {
      const leasesA = new DatabaseSessionLeases(a, FAST);
      const leasesB = new DatabaseSessionLeases(b, FAST);
      const id = await createSession(a);
      const lease = (await leasesA.acquire(id, 'worker-a'))!;
      let takeover: Promise<unknown> | undefined;
      let settled = false;
      await a.transaction(async (manager) => {
        await leasesA.assertCurrent(manager, lease);
        await manager.query(`UPDATE sessions SET label = 'written under epoch 1' WHERE id = $1`, [id]);
        takeover = leasesB.acquire(id, 'worker-a').finally(() => (settled = true));
        await waitFor(
          async () => (await b.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO session_leases%'`)).length > 0,
          { what: 'the takeover waiting on the lease row' },
        );
        expect(settled).toBe(false);
      });
      expect(await takeover).toMatchObject({ epoch: lease.epoch + 1 });
      const [{ label }] = await a.query(`SELECT label FROM sessions WHERE id = $1`, [id]);
      expect(label).toBe('written under epoch 1');
      expect(await leasesA.isCurrent(lease)).toBe(false);
    });

    it('keeper gives the session up before the database expiry when the database becomes unreachable', async () => {
      const target = new URL(database.url);
      proxy = await new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) }).start();
      const proxied = new URL(database.url);
      proxied.host = `127.0.0.1:${proxy.port}`;
      viaProxy = await openPostgres(proxied.toString());
      const leases = new DatabaseSessionLeases(viaProxy, FAST);
      const id = await createSession(a);
      const lease = (await leases.acquire(id, 'worker-a'))!;
      const errors: unknown[] = [];
      const lost = new Promise<{ reason: LeaseLossReason; at: number; deadline: number }>((resolve) => {
        const keeper = new LeaseKeeper(leases, lease, {
          onLost: (reason, last) => resolve({ reason, at: performance.now(), deadline: last.localDeadline }),
          onRenewError: (error) => errors.push(error),
        });
        keeper.start();
      });
      await proxy.cut();
      const result = await lost;
      expect(result.reason).toBe('deadline');
      expect(errors.length).toBeGreaterThan(0);
      expect(result.at - result.deadline).toBeLessThan(250);
      // The holder stopped while the database still says its lease is valid: nobody could have taken over yet.
      const [{ valid }] = await a.query(`SELECT expires_at > now() AS valid FROM session_leases WHERE session_id = $1`, [id]);
      expect(valid).toBe(true);
      expect(await new DatabaseSessionLeases(a, FAST).acquire(id, 'worker-b')).toBeNull();
    });
  });
});
