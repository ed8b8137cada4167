import { createTestDatabase } from '../support/services';
/**
 * bench:webhooks — webhook delivery throughput and event-to-delivery latency
 * through the whole gateway (event bus -> durable fan-out -> delivery queue ->
 * signed HTTP POST) to a fast local receiver.
 *
 * Flags: --events N (throughput phase, default 3000)
 *        --driver db|bullmq|pglite (default db: PostgreSQL with the database queue;
 *          bullmq: PostgreSQL + BullMQ on Redis; pglite: the embedded mode)
 *        --latency-events N (default 500) --rate R (events/s in the latency phase, default 200)
 *        --publishers K (concurrent publishers in the throughput phase, default 32)
 *
 * Phases:
 * 1. throughput: N events published by K concurrent publishers; deliveries/s =
 *    N / (last delivery received - first publish).
 * 2. latency: events published at a steady R/s into an idle system; latency is
 *    the time from just before `publish` to the receiver getting the request.
 *
 * Leaves nothing behind: its temporary database is dropped, its Redis keys deleted,
 * the gateway and the receiver closed.
 */
import http from 'node:http';
import { randomInt, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { loadConfig } from '../../libs/config/src';
import { EventBus } from '../../libs/events/src';
import { createApp } from '../../apps/gateway/src/bootstrap';
import { tempDir, TEST_ADMIN_KEY, TEST_CREDENTIALS_KEY } from '../support/gateway';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? undefined : Number(process.argv[i + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function textFlag<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? undefined : process.argv[i + 1];
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw new Error(`--${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

const EVENTS = flag('events', 3000);
const LATENCY_EVENTS = flag('latency-events', 500);
const RATE = flag('rate', 200);
const PUBLISHERS = flag('publishers', 32);
const DRIVER = textFlag('driver', ['db', 'bullmq', 'pglite'] as const, 'db');

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

interface Receiver {
  url: string;
  /** When each webhook-id first arrived (performance.now()). */
  arrivals: Map<string, number>;
  /** Resolves once every id has arrived; O(1) work per request, so waiting costs the gateway under test nothing. */
  allArrived: (ids: readonly string[], timeoutMs: number, what: string) => Promise<void>;
  close: () => Promise<void>;
}

/** A receiver that answers 200 as soon as the body is in and notes when each webhook-id first arrived. */
async function startReceiver(): Promise<Receiver> {
  const arrivals = new Map<string, number>();
  let missing: Set<string> | null = null;
  let done: (() => void) | null = null;
  const server = http.createServer((req, res) => {
    const id = String(req.headers['webhook-id']);
    if (!arrivals.has(id)) arrivals.set(id, performance.now());
    req.resume();
    req.on('end', () => res.end('ok'));
    if (missing?.delete(id) && missing.size === 0) done?.();
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    arrivals,
    allArrived: (ids, timeoutMs, what) =>
      new Promise<void>((resolve, reject) => {
        missing = new Set(ids.filter((id) => !arrivals.has(id)));
        const timer = setTimeout(() => {
          done = null;
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${missing?.size} missing)`));
        }, timeoutMs);
        done = () => {
          clearTimeout(timer);
          done = null;
          resolve();
        };
        if (missing.size === 0) done();
      }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function main(): Promise<void> {
  const cleanups: Array<() => Promise<void>> = [];
  const env: Record<string, string> = {
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    CREDENTIALS_KEY: TEST_CREDENTIALS_KEY,
    LOG_LEVEL: 'silent',
    WEBHOOK_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
    DATA_DIR: tempDir('wagw-bench-webhooks-'),
  };
  let redisUrl: string | undefined;
  try {
    if (DRIVER !== 'pglite') {
      const database = await createTestDatabase('bench_webhooks', POSTGRES_URL);
      cleanups.push(database.drop);
      env.DATABASE_URL = database.url;
    }
    if (DRIVER === 'bullmq') {
      // A Redis database of its own; the queue keys are deleted at the end.
      const url = new URL(REDIS_URL);
      url.pathname = `/${randomInt(1, 16)}`;
      redisUrl = url.toString();
      env.REDIS_URL = redisUrl;
    }

    const receiver = await startReceiver();
    cleanups.unshift(receiver.close);
    const app = await createApp(loadConfig(env));
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.unshift(() => app.close());
    const { port } = app.getHttpServer().address() as AddressInfo;
    const subscribed = await fetch(`http://127.0.0.1:${port}/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url }),
    });
    if (subscribed.status !== 201) throw new Error(`POST /webhooks answered ${subscribed.status}: ${await subscribed.text()}`);
    const bus = app.get(EventBus);
    const sessionId = randomUUID();
    const event = (id: string) => ({
      id,
      type: 'message.received' as const,
      sessionId,
      timestamp: new Date().toISOString(),
      payload: { messageId: id, from: '5511999999999@s.whatsapp.net', type: 'text', body: 'Olá, tudo bem?' },
    });

    // Warm-up: connections, prepared plans, JIT.
    const warm = Array.from({ length: 50 }, () => `warm-${randomUUID()}`);
    await Promise.all(warm.map((id) => bus.publish(event(id))));
    await receiver.allArrived(warm, 60_000, 'the warm-up deliveries');

    // Phase 1: throughput.
    const ids = Array.from({ length: EVENTS }, () => `tp-${randomUUID()}`);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: PUBLISHERS }, async () => {
        while (next < ids.length) await bus.publish(event(ids[next++]));
      }),
    );
    const published = performance.now();
    await receiver.allArrived(ids, 300_000, 'every throughput delivery');
    const lastArrival = Math.max(...ids.map((id) => receiver.arrivals.get(id)!));
    const deliveriesPerSec = Math.round((EVENTS / (lastArrival - started)) * 1000);
    const publishPerSec = Math.round((EVENTS / (published - started)) * 1000);

    // Phase 2: latency at a steady rate.
    const publishedAt = new Map<string, number>();
    const gapMs = 1000 / RATE;
    const latencyStart = performance.now();
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < LATENCY_EVENTS; i++) {
      const due = latencyStart + i * gapMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const id = `lat-${randomUUID()}`;
      publishedAt.set(id, performance.now());
      pending.push(bus.publish(event(id)));
    }
    await Promise.all(pending);
    await receiver.allArrived([...publishedAt.keys()], 120_000, 'every latency delivery');
    const latencies = [...publishedAt].map(([id, at]) => receiver.arrivals.get(id)! - at);

    const result = {
      deliveriesPerSec,
      p99Ms: round(percentile(latencies, 99)),
      driver: DRIVER,
      events: EVENTS,
      publishPerSec,
      latencyEvents: LATENCY_EVENTS,
      rate: RATE,
      p50Ms: round(percentile(latencies, 50)),
      maxMs: round(Math.max(...latencies)),
    };
    const rows: Array<[string, string]> = [
      ['driver', DRIVER === 'db' ? 'database queue on PostgreSQL' : DRIVER === 'bullmq' ? 'BullMQ on Redis, PostgreSQL' : 'database queue on PGlite (embedded)'],
      [`throughput: ${EVENTS} events, ${PUBLISHERS} publishers`, `${deliveriesPerSec} deliveries/s (publish ${publishPerSec}/s)`],
      [`latency: ${LATENCY_EVENTS} events at ${RATE}/s`, `p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms`],
      ['targets', `>= 1000 deliveries/s: ${deliveriesPerSec >= 1000 ? 'met' : 'missed'}; p99 < 50 ms: ${result.p99Ms < 50 ? 'met' : 'missed'}`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(`\nbench:webhooks\n${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error: unknown) => process.stderr.write(`cleanup: ${(error as Error).message}\n`));
    if (redisUrl) {
      const redis = new Redis(redisUrl);
      const keys: string[] = [];
      for await (const batch of redis.scanStream({ match: 'wagw:webhook-*', count: 1000 }) as AsyncIterable<string[]>) keys.push(...batch);
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
      await redis.quit();
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:webhooks failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
