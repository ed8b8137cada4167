import { createDataSource, runMigrations } from '../../libs/persistence/src';
import { createTestDatabase, describeWithServices } from '../support/services';
import { schemaExtensions } from '../../apps/gateway/src/schema';

const TABLES = ['api_keys', 'events', 'messages', 'sessions'];

async function migrateAndCheck(databaseUrl?: string) {
  const ds = await createDataSource({ databaseUrl, ...schemaExtensions });
  await ds.initialize();
  try {
    const applied = await runMigrations(ds);
    expect(applied.length).toBeGreaterThan(0);
    expect(await runMigrations(ds)).toEqual([]);
    const tables = (await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)).map((r: { table_name: string }) => r.table_name);
    expect(tables).toEqual(expect.arrayContaining(TABLES));
    // The idempotency key is unique per connection: a duplicate raises 23505 on both databases.
    const [{ id }] = await ds.query(`INSERT INTO sessions (label) VALUES ('m') RETURNING id`);
    const insert = () => ds.query(`INSERT INTO messages (session_id, message_id, direction, "to", type, payload, status) VALUES ($1, 'k1', 'out', 'x', 'text', '{}', 'queued')`, [id]);
    await insert();
    await expect(insert()).rejects.toMatchObject({ code: '23505' });
    const [{ gen }] = await ds.query(`SELECT gen_random_uuid() AS gen`);
    expect(gen).toMatch(/^[0-9a-f-]{36}$/);
    return applied;
  } finally {
    await ds.destroy();
  }
}

describe('migrations', () => {
  let pgliteApplied: string[] = [];
  it('run from empty on PGlite', async () => {
    pgliteApplied = await migrateAndCheck();
  });

  describeWithServices(['postgres'], 'on PostgreSQL', () => {
    it('run from empty, the same list as on PGlite', async () => {
      const db = await createTestDatabase();
      try {
        expect(await migrateAndCheck(db.url)).toEqual(pgliteApplied);
      } finally {
        await db.drop();
      }
    });
  });
});
