import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

/**
 * An open-loop HTTP load at a fixed rate: request i is due at start + i / rate,
 * whatever happened to the earlier ones, and its latency is counted from that
 * due time (a request that waits for a free connection or for a late timer
 * counts the wait). This is what "a fixed 1,000 req/s" means; autocannon's
 * rate option instead sends each connection's share of a second back to back
 * at the start of the second and pauses, and its coordinated-omission
 * correction assumes one request per millisecond per connection, so its
 * percentiles at a fixed rate describe bursts, not the rate.
 */
export interface OpenLoopOptions {
  url: string;
  method?: 'POST' | 'GET';
  path: string;
  headers: Record<string, string>;
  body: (index: number) => string;
  rate: number;
  seconds: number;
  connections: number;
  /**
   * Connections to reuse (not closed at the end), e.g. those a warm-up opened:
   * a new pool opens its connections while the load is already due, and the
   * requests waiting for them count in the first seconds' latencies.
   */
  pool?: Pool;
}

export interface OpenLoopResult {
  requests: number;
  completed: number;
  /** Completed requests per second over the time from the first due time to the last answer. */
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /**
   * The same counted from when the generator handed each request to its
   * connection pool: without the generator's own timer lateness, but with any
   * wait for a free connection (with every connection busy, requests queue in
   * the pool as they would in any keep-alive client).
   */
  fromSendMs: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  /** How late the generator's own timer ran behind the schedule at worst (ms): its share of the latencies. */
  maxSchedulerLagMs: number;
}

const TICK_MS = 1;

/** Keep-alive HTTP/1.1 connections without pipelining, as the load uses them. */
export const openLoopPool = (url: string, connections: number) => new Pool(url, { connections, pipelining: 1 });

export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const pool = options.pool ?? openLoopPool(options.url, options.connections);
  const total = Math.round(options.rate * options.seconds);
  const interval = 1000 / options.rate;
  const latencies: number[] = [];
  const fromSend: number[] = [];
  let completed = 0;
  let non2xx = 0;
  let errors = 0;
  let dispatched = 0;
  let maxSchedulerLagMs = 0;
  let lastAnswer = 0;
  const start = performance.now() + 5;

  const send = (index: number, due: number) => {
    const sentAt = performance.now();
    pool
      .request({ method: options.method ?? 'POST', path: options.path, headers: options.headers, body: options.body(index) })
      .then(async (response) => {
        await response.body.dump();
        if (response.statusCode < 200 || response.statusCode >= 300) non2xx++;
      })
      .catch(() => errors++)
      .finally(() => {
        lastAnswer = performance.now();
        latencies.push(lastAnswer - due);
        fromSend.push(lastAnswer - sentAt);
        completed++;
      });
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Everything due by now goes out now; its latency still counts from its due time.
      while (dispatched < total && start + dispatched * interval <= now) {
        const due = start + dispatched * interval;
        maxSchedulerLagMs = Math.max(maxSchedulerLagMs, now - due);
        send(dispatched, due);
        dispatched++;
      }
      if (dispatched < total) setTimeout(tick, TICK_MS);
      else resolve();
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  const deadline = performance.now() + 60_000;
  while (completed < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  if (!options.pool) await pool.close();

  const percentile = (values: number[]) => {
    const sorted = Float64Array.from(values).sort();
    return (q: number) => (sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]) : 0);
  };
  const at = percentile(latencies);
  const sendAt = percentile(fromSend);
  return {
    requests: total,
    completed,
    rps: Math.round(completed / ((lastAnswer - start) / 1000)),
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) },
    fromSendMs: { p50: sendAt(0.5), p99: sendAt(0.99) },
    non2xx,
    errors: errors + (total - completed),
    maxSchedulerLagMs: round(maxSchedulerLagMs),
  };
}

const round = (value: number) => Math.round(value * 100) / 100;
