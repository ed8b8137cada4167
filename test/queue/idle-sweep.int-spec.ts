import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { DatabaseMessageQueue } from '../../libs/queue/src';
import { waitFor } from '../support/services';
import { openDataSource } from './support/drivers';

/**
 * A worker owns one send queue per session: hundreds of idle consumers must
 * not each poll the database. Idle consumers sleep; one sweep per process asks
 * which of their queues have work.
 */
describe('database driver with many idle consumers', () => {
  let dataDir: string;
  let dataSource: DataSource;
  let queue: DatabaseMessageQueue;
  let statements = 0;
  const handled: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'queue-idle-'));
    dataSource = await openDataSource({ driver: 'pglite', dataDir });
    const query = dataSource.query.bind(dataSource);
    dataSource.query = ((sql: string, params?: unknown[]) => {
      statements++;
      return query(sql, params);
    }) as typeof dataSource.query;
    queue = new DatabaseMessageQueue({ dataSource, pollIntervalMs: 100, idlePollMs: 60_000, listen: false, onError: () => undefined });
    for (let i = 0; i < 100; i++) {
      await queue.consume(`message-send.s${i}`, async (job) => {
        handled.push(`${job.queue}/${job.jobId}`);
      });
    }
  });
  afterAll(async () => {
    await queue?.close();
    await dataSource?.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('costs about one statement per poll interval for all idle consumers together', async () => {
    // Let every consumer make its first look and go idle.
    await waitFor(() => (queue as unknown as { consumers: Set<{ idle: boolean }> }).consumers.size === 100 && [...(queue as unknown as { consumers: Set<{ idle: boolean }> }).consumers].every((c) => c.idle), { what: 'all consumers idle' });
    const before = statements;
    const started = Date.now();
    await waitFor(() => Date.now() - started >= 1000, { intervalMs: 50, what: 'one second to pass' });
    const perSecond = statements - before;
    // 10 sweeps in a second; polling each of the 100 queues would be hundreds of statements.
    expect(perSecond).toBeLessThanOrEqual(20);
  });

  it('an enqueue in this process wakes its consumer at once', async () => {
    const started = Date.now();
    await queue.enqueue('message-send.s7', 'MessageSend', {}, { jobId: 'local-1' });
    await waitFor(() => handled.includes('message-send.s7/local-1'), { what: 'the local job' });
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('a job written behind its back (another process without NOTIFY) is found by the sweep', async () => {
    // A second driver on the same database stands for another process: it does not wake this one's consumers.
    const other = new DatabaseMessageQueue({ dataSource, listen: false });
    await other.enqueue('message-send.s42', 'MessageSend', {}, { jobId: 'remote-1' });
    await other.close();
    await waitFor(() => handled.includes('message-send.s42/remote-1'), { timeoutMs: 3000, what: 'the sweep to find the job' });
  });
});
