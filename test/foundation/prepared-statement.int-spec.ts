import { randomBytes } from 'node:crypto';
import { DataSource, QueryFailedError } from 'typeorm';
import { PreparedStatement, createDataSource } from '../../libs/persistence/src';
import { createTestDatabase, describeWithServices } from '../support/services';

const suffix = randomBytes(3).toString('hex');
const UPSERT = new PreparedStatement(
  `test.upsert_${suffix}`,
  `INSERT INTO prepared_demo (k, v) SELECT x.k, x.v FROM unnest($1::text[], $2::int[]) AS x(k, v)
   ON CONFLICT (k) DO UPDATE SET v = prepared_demo.v + excluded.v RETURNING k, v`,
);
const NOT_NULL = new PreparedStatement(`test.not_null_${suffix}`, `INSERT INTO prepared_demo (k, v) VALUES ($1, NULL) RETURNING k`);

async function exercise(ds: DataSource) {
  await ds.query(`CREATE TABLE prepared_demo (k text PRIMARY KEY, v int NOT NULL)`);
  expect(await UPSERT.rows(ds, [['a', 'b'], [1, 2]])).toEqual([
    { k: 'a', v: 1 },
    { k: 'b', v: 2 },
  ]);
  // The same statement again, with an input of another length: the text does not change, the rows do.
  expect(await UPSERT.rows(ds, [['b', 'c', 'd'], [10, 3, 4]])).toEqual([
    { k: 'b', v: 12 },
    { k: 'c', v: 3 },
    { k: 'd', v: 4 },
  ]);
  const failure = await NOT_NULL.rows(ds, ['e']).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(QueryFailedError);
  expect(failure).toMatchObject({ code: '23502' });
}

describe('PreparedStatement', () => {
  it('refuses a second text under a name already in use', () => {
    expect(() => new PreparedStatement(UPSERT.name, 'SELECT 1')).toThrow(/defined twice/);
    expect(() => new PreparedStatement(UPSERT.name, UPSERT.text)).not.toThrow();
  });

  it('runs as a plain query on PGlite', async () => {
    const ds = await createDataSource({});
    await ds.initialize();
    try {
      await exercise(ds);
    } finally {
      await ds.destroy();
    }
  });

  describeWithServices(['postgres'], 'on PostgreSQL', () => {
    it('is prepared once per connection under its name, rows and errors as with a plain query', async () => {
      const db = await createTestDatabase();
      const ds = await createDataSource({ databaseUrl: db.url, poolSize: 1 });
      await ds.initialize();
      try {
        await exercise(ds);
        // One pooled connection: the statements above and this query share it.
        const prepared = (await ds.query(`SELECT name FROM pg_prepared_statements ORDER BY name`)).map((r: { name: string }) => r.name);
        expect(prepared).toEqual([NOT_NULL.name, UPSERT.name].sort());
      } finally {
        await ds.destroy();
        await db.drop();
      }
    });
  });
});
