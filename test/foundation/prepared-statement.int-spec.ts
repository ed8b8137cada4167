import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';
import { PreparedStatement, createDataSource } from '../../libs/persistence/src';
import { createTestDatabase, describeWithServices, waitFor } from '../support/services';
import { TcpProxy } from '../support/tcp-proxy';

const suffix = randomBytes(3).toString('hex');
const UPSERT = new PreparedStatement(
  `test.upsert_${suffix}`,
  `INSERT INTO prepared_demo (k, v) SELECT x.k, x.v FROM unnest($1::text[], $2::int[]) AS x(k, v)
   ON CONFLICT (k) DO UPDATE SET v = prepared_demo.v + excluded.v RETURNING k, v`,
);
const PID = new PreparedStatement(`test.pid_${suffix}`, `SELECT pg_backend_pid() AS pid`);
const SLEEP = new PreparedStatement(`test.sleep_${suffix}`, `SELECT pg_sleep($1::int)`);
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

    it('reports a lost connection as a failed statement and carries on with a new one', async () => {
      const db = await createTestDatabase();
      const target = new URL(db.url);
      const proxy = await new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) }).start();
      const viaProxy = new URL(db.url);
      viaProxy.port = String(proxy.port);
      const ds = await createDataSource({ databaseUrl: viaProxy.toString(), poolSize: 1 });
      await ds.initialize();
      const admin = new Client({ connectionString: db.url });
      await admin.connect();
      const running = (pid: number) => admin.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%'`, [pid]).then((r) => r.rowCount === 1);
      try {
        // The socket is cut under a running statement: the connection emits 'error' while the statement holds it,
        // which, unheard, would end this process.
        const [{ pid: first }] = await PID.rows<{ pid: number }>(ds, []);
        const cut = SLEEP.rows(ds, [30]).catch((error: unknown) => error);
        await waitFor(() => running(first), { what: 'the statement running' });
        await proxy.cut();
        expect(await cut).toBeInstanceOf(QueryFailedError);
        await proxy.start(proxy.port);
        // The server ends the session under a running statement (FATAL): that connection is not used again.
        const [{ pid: second }] = await PID.rows<{ pid: number }>(ds, []);
        expect(second).not.toBe(first);
        const terminated = SLEEP.rows(ds, [30]).catch((error: unknown) => error);
        await waitFor(() => running(second), { what: 'the second statement running' });
        await admin.query(`SELECT pg_terminate_backend($1)`, [second]);
        expect(await terminated).toBeInstanceOf(QueryFailedError);
        const [{ pid: third }] = await PID.rows<{ pid: number }>(ds, []);
        expect(third).not.toBe(second);
        await admin.query(`SELECT pg_terminate_backend($1)`, [first]);
      } finally {
        await admin.end();
        await ds.destroy();
        await proxy.cut().catch(() => undefined);
        await db.drop();
      }
    });
  });
});
