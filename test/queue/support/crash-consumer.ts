/**
 * Child process of the crash test: consumes one queue with a handler that
 * announces the job and then never finishes, so the parent can SIGKILL it
 * mid-job. Run with `node -r @swc-node/register crash-consumer.ts`.
 * Input: QUEUE_CRASH_SPEC = JSON { storage, queue, visibilityTimeoutMs }.
 */
import { openDriver, type StorageSpec } from './drivers';

interface CrashSpec {
  storage: StorageSpec;
  queue: string;
  visibilityTimeoutMs: number;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.QUEUE_CRASH_SPEC ?? '') as CrashSpec;
  const { queue } = await openDriver(spec.storage, { visibilityTimeoutMs: spec.visibilityTimeoutMs });
  await queue.consume(spec.queue, async (job) => {
    process.stdout.write(`STARTED ${job.jobId} ${job.attempt}\n`);
    await new Promise(() => undefined);
  });
  process.stdout.write('CONSUMING\n');
}

main().catch((error) => {
  process.stderr.write(`crash consumer failed: ${String(error?.stack ?? error)}\n`);
  process.exit(1);
});
