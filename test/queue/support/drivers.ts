import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '../../../libs/persistence/src';
import type { Metrics } from '../../../libs/observability/src/metrics';
import { BullmqMessageQueue, DatabaseMessageQueue, queueMigrations, type MessageQueue, type RetryPolicyConfig } from '../../../libs/queue/src';

/**
 * Where a driver under test keeps its jobs, as plain data so a child process
 * (the crash test) can open the same storage.
 */
export type StorageSpec =
  | { driver: 'bullmq'; redisUrl: string; prefix: string }
  | { driver: 'postgres'; url: string }
  | { driver: 'pglite'; dataDir: string };

export interface DriverTuning {
  retry?: RetryPolicyConfig;
  visibilityTimeoutMs?: number;
  metrics?: Metrics;
}

export interface OpenDriver {
  queue: MessageQueue;
  /** The database drivers' data source, where their jobs are. */
  dataSource?: DataSource;
  /** Closes the driver and, for the database drivers, its data source. */
  close(): Promise<void>;
}

export async function openDataSource(spec: Extract<StorageSpec, { driver: 'postgres' | 'pglite' }>): Promise<DataSource> {
  // The product's own data source (for PGlite: its serialising driver), with the queue's tables.
  const dataSource = await createDataSource(spec.driver === 'postgres' ? { databaseUrl: spec.url, migrations: queueMigrations } : { pgliteDir: spec.dataDir, migrations: queueMigrations });
  await dataSource.initialize();
  await runMigrations(dataSource);
  return dataSource;
}

export async function openDriver(spec: StorageSpec, tuning: DriverTuning = {}): Promise<OpenDriver> {
  if (spec.driver === 'bullmq') {
    const queue = new BullmqMessageQueue({
      redis: spec.redisUrl,
      prefix: spec.prefix,
      retry: tuning.retry,
      metrics: tuning.metrics,
      visibilityTimeoutMs: tuning.visibilityTimeoutMs,
      stalledCheckIntervalMs: tuning.visibilityTimeoutMs ? Math.max(250, tuning.visibilityTimeoutMs / 2) : undefined,
    });
    return { queue, close: () => queue.close() };
  }
  const dataSource = await openDataSource(spec);
  const queue = new DatabaseMessageQueue({
    dataSource,
    retry: tuning.retry,
    metrics: tuning.metrics,
    visibilityTimeoutMs: tuning.visibilityTimeoutMs,
    // PGlite cannot be shared between processes, so nothing can notify it from outside.
    pollIntervalMs: 500,
    // QUEUE_TEST_NO_LISTEN=1 turns LISTEN off, to see the NOTIFY wake-up test fail without it.
    listen: process.env.QUEUE_TEST_NO_LISTEN !== '1',
  });
  return {
    queue,
    dataSource,
    close: async () => {
      await queue.close();
      await dataSource.destroy();
    },
  };
}
