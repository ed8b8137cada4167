/**
 * bench:statements — what preparing a hot statement saves: the accepting
 * INSERT of sends (INSERT_OUTGOING), run back to back on PostgreSQL as a
 * plain (unnamed) query, which PostgreSQL parses and plans each time, and as
 * a prepared statement, in the same run and on the same connection.
 *
 * Flags: --rounds N (statements per batch size and mode, default 1000)
 *
 * Batch sizes 1, 5 and 20 rows; the two modes alternate in blocks of 50 so
 * that drift on a shared machine touches both alike. Leaves nothing behind:
 * a temporary database, dropped at the end.
 */
import { randomUUID } from 'node:crypto';
import { createDataSource, runMigrations } from '../../libs/persistence/src';
import { INSERT_OUTGOING } from '../../libs/messaging/src/messages.repository';
import { schemaExtensions } from '../../apps/gateway/src/schema';
import { createTestDatabase } from '../support/services';

const POSTGRES_URL = process.env.DATABASE_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? undefined : Number(process.argv[i + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

const ROUNDS = flag('rounds', 1000);
const BLOCK = 50;
const BATCH_SIZES = [1, 5, 20];

const percentile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] * 100) / 100;
};

async function main(): Promise<void> {
  const database = await createTestDatabase('bench_statements', POSTGRES_URL);
  // One pooled connection: both modes run on the same backend.
  const dataSource = await createDataSource({ databaseUrl: database.url, poolSize: 1, ...schemaExtensions });
  try {
    await dataSource.initialize();
    await runMigrations(dataSource);
    const [{ id: sessionId }] = await dataSource.query(`INSERT INTO sessions (label, status, desired_state) VALUES ('bench', 'connected', 'stopped') RETURNING id`);
    // The parameters insertOutgoingMany sends: the batch as one JSON array, the status stamp, the time.
    const params = (rows: number) => {
      const at = new Date();
      const batch = Array.from({ length: rows }, () => {
        const id = randomUUID();
        const to = '5534900000001@s.whatsapp.net';
        return { id, session_id: sessionId, message_id: `bench-${id}`, to, type: 'text', payload: { to, content: { type: 'text', text: `bench ${id}` } }, payload_hash: 'a'.repeat(64), wa_message_id: `3EB0${id.replace(/-/g, '').slice(0, 18).toUpperCase()}`, scheduled_at: null };
      });
      return [JSON.stringify(batch), JSON.stringify({ queued: at.toISOString() }), at];
    };
    const run = { plain: (p: unknown[]) => dataSource.query(INSERT_OUTGOING.text, p), prepared: (p: unknown[]) => INSERT_OUTGOING.rows(dataSource, p) };

    const results: Array<{ rows: number; plainP50Ms: number; plainP99Ms: number; preparedP50Ms: number; preparedP99Ms: number; savedP50Ms: number }> = [];
    for (const rows of BATCH_SIZES) {
      const times: Record<'plain' | 'prepared', number[]> = { plain: [], prepared: [] };
      for (let done = 0; done < ROUNDS; done += BLOCK) {
        for (const mode of ['plain', 'prepared'] as const) {
          for (let i = 0; i < Math.min(BLOCK, ROUNDS - done); i++) {
            const p = params(rows);
            const started = performance.now();
            await run[mode](p);
            times[mode].push(performance.now() - started);
          }
        }
      }
      const entry = { rows, plainP50Ms: percentile(times.plain, 0.5), plainP99Ms: percentile(times.plain, 0.99), preparedP50Ms: percentile(times.prepared, 0.5), preparedP99Ms: percentile(times.prepared, 0.99), savedP50Ms: 0 };
      entry.savedP50Ms = Math.round((entry.plainP50Ms - entry.preparedP50Ms) * 100) / 100;
      results.push(entry);
    }

    console.log(`accepting INSERT, ${ROUNDS} statements per batch size and mode, one connection, back to back`);
    console.log(['rows', 'plain p50 ms', 'plain p99 ms', 'prepared p50 ms', 'prepared p99 ms', 'saved p50 ms'].map((h) => h.padStart(17)).join(''));
    for (const r of results) console.log([r.rows, r.plainP50Ms, r.plainP99Ms, r.preparedP50Ms, r.preparedP99Ms, r.savedP50Ms].map((v) => String(v).padStart(17)).join(''));
    console.log(`RESULT ${JSON.stringify({ rounds: ROUNDS, statement: INSERT_OUTGOING.name, batches: results })}`);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
