/**
 * bench:queue — enqueue throughput and enqueue-to-start latency of both
 * MessageQueue drivers, next to a bare BullMQ `Queue.add` loop measured in
 * the same run (shared machines drift; ratios hold).
 *
 * Flags: --jobs N (default 5000) --concurrency K (in-flight enqueues, default 32)
 *        --latency-jobs N (default 500) --db-batch B (default 100) --db-consumers C (default 64)
 *
 * Phases, each on its own queue:
 * 1. enqueue throughput: K concurrent single `add`/`enqueue` calls, same job options
 *    shape on both sides (no job id, no delay), for bare BullMQ and the BullMQ driver;
 *    then the same with a job id (the driver checks existence first to report `created`).
 * 2. latency: jobs enqueued one at a time into an idle consumer; enqueue-to-start is
 *    the time from just before the enqueue call to the handler starting.
 * 3. database end to end on PostgreSQL: batched concurrent enqueue while a consumer
 *    with concurrency C drains; jobs/s = N / (last completion - first enqueue).
 *
 * Leaves nothing behind: its own Redis prefix (deleted) and a temporary database (dropped).
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { BullmqMessageQueue, DatabaseMessageQueue, queueMigrations, type MessageQueue } from '../../libs/queue/src';

const REDIS_URL = process.env.REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env.DATABASE_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? undefined : Number(process.argv[i + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

const JOBS = flag('jobs', 5000);
const CONCURRENCY = flag('concurrency', 32);
const LATENCY_JOBS = flag('latency-jobs', 500);
const DB_BATCH = flag('db-batch', 100);
const DB_CONSUMERS = flag('db-consumers', 64);

/** Runs `count` calls of `task` with at most `concurrency` in flight; returns elapsed ms. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return performance.now() - started;
}

const perSec = (count: number, ms: number) => Math.round((count / ms) * 1000);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (n: number) => Math.round(n * 100) / 100;

async function enqueueToStartLatency(mq: MessageQueue, queue: string, jobs: number): Promise<{ p50: number; p99: number }> {
  const latencies: number[] = [];
  const startedAt = new Map<number, (t: number) => void>();
  const consumer = await mq.consume<{ i: number }>(queue, async (job) => {
    startedAt.get(job.payload.i)?.(performance.now());
  });
  for (let i = 0; i < jobs; i++) {
    const started = new Promise<number>((resolve) => startedAt.set(i, resolve));
    const t0 = performance.now();
    await mq.enqueue(queue, 'BenchJob', { i });
    latencies.push((await started) - t0);
  }
  await consumer.close();
  return { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)) };
}

async function main(): Promise<void> {
  const prefix = `bench-queue-${randomBytes(4).toString('hex')}`;
  const dbName = `bench_queue_${randomBytes(4).toString('hex')}`;
  const rows: Array<[string, string]> = [];
  const redis = new Redis(REDIS_URL);
  const admin = new Client({ connectionString: POSTGRES_URL });
  let dataSource: DataSource | undefined;
  let bullmq: BullmqMessageQueue | undefined;
  let db: DatabaseMessageQueue | undefined;
  const bare = new Queue('bench-bare', { connection: redis, prefix });
  try {
    // 1. Enqueue throughput, like with like: K concurrent single adds, no job id, same attempts/backoff options.
    bullmq = new BullmqMessageQueue({ redis, prefix });
    const payload = { to: '15550001111@s.whatsapp.net', text: 'hello' };
    const bareAdd = () => bare.add('BenchJob', payload, { attempts: 5, backoff: { type: 'exponential', delay: 1000 } });
    const driverAdd = () => bullmq!.enqueue('bench-driver', 'BenchJob', payload);
    // Warm both paths (JIT, script loading) before measuring.
    const warmup = Math.min(1000, Math.ceil(JOBS / 5));
    await pool(warmup, CONCURRENCY, bareAdd);
    await pool(warmup, CONCURRENCY, driverAdd);
    // Alternate the two sides in rounds so drift on a shared machine hits both alike.
    const ROUNDS = 4;
    const perRound = Math.max(1, Math.floor(JOBS / ROUNDS));
    let bareMs = 0;
    let driverMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      bareMs += await pool(perRound, CONCURRENCY, bareAdd);
      driverMs += await pool(perRound, CONCURRENCY, driverAdd);
    }
    const enqueued = perRound * ROUNDS;
    const bareJobsPerSec = perSec(enqueued, bareMs);
    const bullmqJobsPerSec = perSec(enqueued, driverMs);
    rows.push(['bare BullMQ Queue.add (no id)', `${bareJobsPerSec} jobs/s`]);
    rows.push(['BullMQ driver enqueue (no id)', `${bullmqJobsPerSec} jobs/s`]);
    rows.push(['ratio driver / bare', `${round(bullmqJobsPerSec / bareJobsPerSec)}`]);

    const withIdN = Math.floor(JOBS / 2);
    const bareIdMs = await pool(withIdN, CONCURRENCY, (i) => bare.add('BenchJob', payload, { jobId: `id-${i}` }));
    const driverIdMs = await pool(withIdN, CONCURRENCY, (i) => bullmq!.enqueue('bench-driver-id', 'BenchJob', payload, { jobId: `id-${i}` }));
    rows.push(['bare BullMQ Queue.add (job id)', `${perSec(withIdN, bareIdMs)} jobs/s`]);
    rows.push(['BullMQ driver enqueue (job id, reports created)', `${perSec(withIdN, driverIdMs)} jobs/s`]);

    // 2. Latency into an idle consumer.
    const bullmqLatency = await enqueueToStartLatency(bullmq, 'bench-latency', LATENCY_JOBS);
    rows.push(['BullMQ driver enqueue-to-start p50 / p99', `${bullmqLatency.p50} / ${bullmqLatency.p99} ms`]);

    // 3. Database driver on PostgreSQL, in a temporary database.
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${dbName}`;
    dataSource = new DataSource({ type: 'postgres', url: url.toString(), migrations: queueMigrations, extra: { max: 10 } });
    await dataSource.initialize();
    await dataSource.runMigrations();
    db = new DatabaseMessageQueue({ dataSource });

    const batches = Math.ceil(JOBS / DB_BATCH);
    const dbEnqueueMs = await pool(batches, 4, (b) =>
      db!.enqueueMany('bench-db-enqueue', Array.from({ length: Math.min(DB_BATCH, JOBS - b * DB_BATCH) }, () => ({ name: 'BenchJob', payload }))),
    );
    rows.push([`DB driver enqueueMany (batches of ${DB_BATCH}, 4 in flight)`, `${perSec(JOBS, dbEnqueueMs)} jobs/s`]);
    const dbSingleN = Math.min(JOBS, 2000);
    const dbSingleMs = await pool(dbSingleN, CONCURRENCY, () => db!.enqueue('bench-db-single', 'BenchJob', payload));
    rows.push([`DB driver single enqueue (${CONCURRENCY} in flight)`, `${perSec(dbSingleN, dbSingleMs)} jobs/s`]);

    // End to end: produce in batches while one consumer (concurrency C) drains; stop the clock at the last completion.
    let completed = 0;
    let lastCompletion = 0;
    let allDone!: () => void;
    const drained = new Promise<void>((resolve) => (allDone = resolve));
    const e2eConsumer = await db.consume('bench-db-e2e', async () => {
      completed += 1;
      if (completed === JOBS) {
        lastCompletion = performance.now();
        allDone();
      }
    }, { concurrency: DB_CONSUMERS });
    const e2eStart = performance.now();
    await pool(batches, 4, (b) =>
      db!.enqueueMany('bench-db-e2e', Array.from({ length: Math.min(DB_BATCH, JOBS - b * DB_BATCH) }, () => ({ name: 'BenchJob', payload }))),
    );
    await drained;
    await e2eConsumer.close();
    const counts = await db.getCounts('bench-db-e2e');
    const dbJobsPerSec = perSec(JOBS, lastCompletion - e2eStart);
    rows.push([`DB driver end to end (enqueue -> completed row, consumer concurrency ${DB_CONSUMERS})`, `${dbJobsPerSec} jobs/s (${counts.completed} completed)`]);

    const dbLatency = await enqueueToStartLatency(db, 'bench-db-latency', LATENCY_JOBS);
    rows.push(['DB driver enqueue-to-start p50 / p99', `${dbLatency.p50} / ${dbLatency.p99} ms`]);

    const width = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(`\nbench:queue  jobs=${JOBS} concurrency=${CONCURRENCY} latencyJobs=${LATENCY_JOBS}\n`);
    for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
    const result = {
      bullmqJobsPerSec,
      bareBullmqJobsPerSec: bareJobsPerSec,
      ratio: round(bullmqJobsPerSec / bareJobsPerSec),
      dbJobsPerSec,
      bullmqP99Ms: bullmqLatency.p99,
      dbP99Ms: dbLatency.p99,
      bullmqP50Ms: bullmqLatency.p50,
      dbP50Ms: dbLatency.p50,
      jobs: JOBS,
      concurrency: CONCURRENCY,
    };
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  } finally {
    await db?.close();
    await dataSource?.destroy();
    await bullmq?.close();
    await bare.close();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
    if (admin) {
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    }
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench:queue failed: ${String(error?.stack ?? error)}\n`);
    process.exit(1);
  },
);
