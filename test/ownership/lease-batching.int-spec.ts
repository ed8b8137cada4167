import { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '../../libs/persistence/src';
import { DatabaseSessionLeases, sessionOwnershipMigrations } from '../../libs/sessions/src/ownership';

/** A worker holding many sessions renews their leases in shared statements. */
describe('lease renewals in batches (PGlite)', () => {
  let dataSource: DataSource;
  let leases: DatabaseSessionLeases;
  let statements = 0;

  beforeAll(async () => {
    dataSource = await createDataSource({ migrations: sessionOwnershipMigrations });
    await dataSource.initialize();
    await runMigrations(dataSource);
    const query = dataSource.query.bind(dataSource);
    dataSource.query = ((sql: string, params?: unknown[]) => {
      statements++;
      return query(sql, params);
    }) as typeof dataSource.query;
    leases = new DatabaseSessionLeases(dataSource, { ttlMs: 30_000, renewIntervalMs: 10_000, safetyMarginMs: 5000 }, 20);
  });
  afterAll(() => dataSource?.destroy());

  it('renews 50 leases in one statement; a lease someone else took is reported lost, the others renewed', async () => {
    const ids: string[] = (await dataSource.query(`INSERT INTO sessions (label) SELECT 'b' || g FROM generate_series(1, 50) g RETURNING id`)).map((r: { id: string }) => r.id);
    const held = await Promise.all(ids.map((id) => leases.acquire(id, 'worker-a')));
    expect(held.every(Boolean)).toBe(true);
    // Another owner took the first session after its lease ran out.
    await dataSource.query(`UPDATE session_leases SET expires_at = now() WHERE session_id = $1`, [ids[0]]);
    expect(await leases.acquire(ids[0], 'worker-b')).not.toBeNull();

    const before = statements;
    const renewed = await Promise.all(held.map((lease) => leases.renew(lease!)));
    expect(statements - before).toBe(1);
    expect(renewed[0]).toBeNull();
    for (const [i, lease] of renewed.slice(1).entries()) {
      expect(lease).toMatchObject({ sessionId: ids[i + 1], owner: 'worker-a', epoch: held[i + 1]!.epoch });
      expect(lease!.expiresAt.getTime()).toBeGreaterThanOrEqual(held[i + 1]!.expiresAt.getTime());
    }
  });
});
