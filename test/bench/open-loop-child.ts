/**
 * The load generator's process for bench:send's enqueue run. It imports only
 * the HTTP client: forked from the bench's own file it would carry Baileys,
 * pg and BullMQ in its heap, and its garbage collector's pauses would show in
 * the latencies it measures as if the gateway had made them.
 */
import { randomUUID } from 'node:crypto';
import { openLoop, openLoopPool, type OpenLoopOptions } from './open-loop-load';

/** Warm-up at the measured rate before the measured run, not measured. */
const WARM_UP_SECONDS = 3;

export interface LoadJob {
  url: string;
  /** `send`: POST /send with a new messageId each; `floor`: GET the path (no body, no work behind it). */
  kind: 'send' | 'floor';
  path: string;
  key: string;
  connections: number;
  rate: number;
  seconds: number;
}

/** An open-loop load at a fixed rate (see open-loop-load.ts), each send with a new messageId; the parent says when to start measuring. */
async function runLoad(job: LoadJob): Promise<void> {
  let counter = 0;
  const body = () => {
    const i = counter++;
    return JSON.stringify({ messageId: `bench-${randomUUID()}`, to: `5534${String(900000000 + (i % 1000))}`, type: 'text', body: `bench message ${i}` });
  };
  const request: Omit<OpenLoopOptions, 'rate' | 'seconds'> =
    job.kind === 'send'
      ? { url: job.url, path: job.path, headers: { authorization: `Bearer ${job.key}`, 'content-type': 'application/json' }, body, connections: job.connections }
      : { url: job.url, method: 'GET' as const, path: job.path, headers: {} as Record<string, string>, body: () => undefined as unknown as string, connections: job.connections };
  // Warm-up at the measured rate (JIT, pools, prepared plans, batch sizes, and the generator's connections, which the
  // measured run reuses), not measured; then the parent takes its "before" readings while no load runs, and says go.
  const pool = openLoopPool(job.url, job.connections);
  await openLoop({ ...request, rate: job.rate, seconds: WARM_UP_SECONDS, pool });
  const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
  await new Promise<void>((resolve) => process.send!({ warm: true }, () => resolve()));
  await go;
  const cpu = process.cpuUsage();
  const result = await openLoop({ ...request, rate: job.rate, seconds: job.seconds, pool });
  const used = process.cpuUsage(cpu);
  await pool.close();
  process.send!({ result, cpuSeconds: (used.user + used.system) / 1e6 }, () => process.exit(0));
}

if (require.main === module) {
  process.once('message', (job) => {
    runLoad(job as LoadJob).catch((error) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    });
  });
}
