/**
 * bench:send — latency and throughput of accepting sends (`POST
 * /connections/:id/send`: validate, idempotency check, durable insert,
 * enqueue) at a fixed request rate, with each queue driver on PostgreSQL.
 *
 * Flags: --rate R (requests/s, default 1000) --seconds S (default 20)
 *        --connections C (HTTP connections, default 50) --driver db|bullmq|both (default both)
 *
 * The gateway runs as its own process from dist (so the load generator does
 * not share its event loop), on a temporary database (dropped at the end)
 * with the API rate limit raised. No consumer is started for the benchmark
 * connection: this measures the enqueue half only. The end-to-end half
 * (messages/s through sessions to the emulator) needs the session runtime to
 * start the send consumers and is reported as null until then.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Client } from 'pg';

/** The part of autocannon's result used here (the package ships no types). */
interface LoadResult {
  requests: { total: number; average: number };
  latency: { p50: number; p90: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
const autocannon = createRequire(__filename)('autocannon') as (options: Record<string, unknown>) => Promise<LoadResult>;

const REDIS_URL = process.env.REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env.DATABASE_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ADMIN_KEY = `bench-admin-${randomBytes(12).toString('hex')}`;
const CREDENTIALS_KEY = randomBytes(32).toString('base64');
const ROOT = path.resolve(__dirname, '../../..');

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 || process.argv[i + 1] === undefined ? fallback : process.argv[i + 1];
}
const num = (name: string, fallback: number) => {
  const value = Number(flag(name, String(fallback)));
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

const RATE = num('rate', 1000);
const SECONDS = num('seconds', 20);
const CONNECTIONS = num('connections', 50);
const DRIVERS = (flag('driver', 'both') === 'both' ? ['db', 'bullmq'] : [flag('driver', 'both')]) as Array<'db' | 'bullmq'>;

interface DriverResult {
  driver: string;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  stored: number;
}

async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bench_send_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

/** Starts the built gateway on a free port and waits for /health (its logs stay at warn so request logging costs nothing). */
async function startGateway(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/apps/gateway/src/main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gateway exited (${child.exitCode}) before listening:\n${output}`);
    const healthy = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (healthy) return { child, url };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`gateway did not answer /health within 60 s:\n${output}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function runDriver(driver: 'db' | 'bullmq'): Promise<DriverResult> {
  const database = await createDatabase();
  let child: ChildProcess | undefined;
  let sessionId = '';
  try {
    const gateway = await startGateway({
      DATABASE_URL: database.url,
      ...(driver === 'bullmq' && { REDIS_URL }),
      ADMIN_API_KEY: ADMIN_KEY,
      CREDENTIALS_KEY,
      RATE_LIMIT_MAX: '1000000',
      SEND_PACING_MESSAGES_PER_MINUTE: '0',
    });
    child = gateway.child;
    const db = new Client({ connectionString: database.url });
    await db.connect();
    // A connection nobody runs a socket for: sends are stored and queued, never consumed.
    sessionId = (await db.query(`INSERT INTO sessions (label, status, desired_state) VALUES ('bench', 'connected', 'stopped') RETURNING id`)).rows[0].id;

    const body = (i: number) => JSON.stringify({ messageId: `bench-${i}`, to: `5534${String(900000000 + (i % 1000))}`, type: 'text', body: `bench message ${i}` });
    // Warm-up (JIT, pools, prepared plans), not measured.
    let counter = 0;
    const request = {
      method: 'POST' as const,
      path: `/connections/${sessionId}/send`,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      setupRequest: (req: Record<string, unknown>) => ({ ...req, body: body(counter++) }),
    };
    await autocannon({ url: gateway.url, connections: 10, amount: 500, requests: [request] });

    const result = await autocannon({ url: gateway.url, connections: CONNECTIONS, overallRate: RATE, duration: SECONDS, requests: [request] });
    const stored = Number((await db.query(`SELECT count(*) FROM messages WHERE session_id = $1`, [sessionId])).rows[0].count);
    await db.end();
    return {
      driver,
      requests: result.requests.total,
      rps: Math.round(result.requests.average),
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      stored,
    };
  } finally {
    if (child) await stop(child);
    if (driver === 'bullmq' && sessionId) {
      // The queue is unique to this run's connection; the gateway uses the default prefix.
      const queue = new Queue(`message-send.${sessionId}`, { connection: { url: REDIS_URL }, prefix: 'wagw' });
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
    await database.drop();
  }
}

async function main(): Promise<void> {
  const results: DriverResult[] = [];
  for (const driver of DRIVERS) {
    process.stdout.write(`running ${driver}: ${RATE} req/s for ${SECONDS} s over ${CONNECTIONS} connections...\n`);
    results.push(await runDriver(driver));
  }
  const rows = [
    ['driver', 'requests', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors', 'stored'],
    ...results.map((r) => [r.driver, r.requests, r.rps, r.p50, r.p90, r.p99, r.max, r.non2xx, r.errors, r.stored].map(String)),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  for (const row of rows) process.stdout.write(`${row.map((cell, i) => String(cell).padStart(widths[i])).join('  ')}\n`);
  process.stdout.write('e2e through sessions to the emulator: not measured (the session runtime does not start send consumers yet)\n');
  // The target is on PostgreSQL + Redis: report the BullMQ run when there is one.
  const headline = results.find((r) => r.driver === 'bullmq') ?? results[0];
  const summary = {
    enqueueRps: headline?.rps ?? null,
    enqueueP50Ms: headline?.p50 ?? null,
    enqueueP99Ms: headline?.p99 ?? null,
    e2eMsgsPerSec: null,
    bareMsgsPerSec: null,
    ratio: null,
    driver: headline?.driver ?? null,
    rate: RATE,
    seconds: SECONDS,
    drivers: Object.fromEntries(results.map((r) => [r.driver, { rps: r.rps, p50Ms: r.p50, p99Ms: r.p99, non2xx: r.non2xx, stored: r.stored }])),
  };
  process.stdout.write(`RESULT ${JSON.stringify(summary)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
