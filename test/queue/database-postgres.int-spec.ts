import { createTestDatabase, describeWithServices, waitFor } from '../support/services';
import { queueContract } from './queue-contract';
import { openDriver, type OpenDriver } from './support/drivers';

describeWithServices(['postgres'], 'database driver on PostgreSQL', () => {
  queueContract('database driver on PostgreSQL', async () => {
    const database = await createTestDatabase('queue');
    return { spec: { driver: 'postgres', url: database.url }, exclusive: false, destroy: database.drop };
  });
});

// Separate data sources have separate connection pools, so towards PostgreSQL
// these drivers are as separate as processes: claims must not overlap, and an
// insert made through one must wake the others through LISTEN/NOTIFY.
describeWithServices(['postgres'], 'database driver on PostgreSQL, several independent drivers', () => {
  let database: { url: string; drop: () => Promise<void> };
  const drivers: OpenDriver[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('queue_multi');
    for (let i = 0; i < 3; i++) drivers.push(await openDriver({ driver: 'postgres', url: database.url }, { visibilityTimeoutMs: 5000 }));
  });

  afterAll(async () => {
    for (const d of drivers) await d.close();
    await database?.drop();
  });

  it('shares one queue between consumers of different drivers without running a job twice', async () => {
    const [producer, a, b] = drivers.map((d) => d.queue);
    const runs = new Map<string, string[]>();
    const record = (who: string) => async (job: { jobId: string }) => {
      runs.set(job.jobId, [...(runs.get(job.jobId) ?? []), who]);
    };
    const consumers = [await a.consume('shared-work', record('a'), { concurrency: 4 }), await b.consume('shared-work', record('b'), { concurrency: 4 })];
    try {
      const total = 300;
      for (let i = 0; i < total; i += 50) {
        await producer.enqueueMany('shared-work', Array.from({ length: 50 }, () => ({ name: 'MessageSend', payload: null })));
      }
      await waitFor(() => runs.size === total, { what: 'every job once' });
      expect([...runs.values()].every((who) => who.length === 1)).toBe(true);
      const byA = [...runs.values()].filter((who) => who[0] === 'a').length;
      expect(byA).toBeGreaterThan(0);
      expect(byA).toBeLessThan(total);
      // The handler runs before its completion is written: wait for the rows, then check nothing ran twice meanwhile.
      await waitFor(async () => (await producer.getCounts('shared-work')).completed === total, { what: 'every completion written' });
      expect([...runs.values()].every((who) => who.length === 1)).toBe(true);
    } finally {
      await Promise.all(consumers.map((c) => c.close()));
    }
  });

  it('wakes a consumer of another driver by NOTIFY, well before its polling interval', async () => {
    const [producer, a] = drivers.map((d) => d.queue);
    let startedAt = 0;
    // The test drivers poll every 500 ms; a start within 150 ms can only come from the notification.
    const consumer = await a.consume('notify-me', async () => {
      startedAt = performance.now();
    });
    try {
      // Let the empty consumer settle into its 500 ms idle wait (its first claim takes a few ms), so that
      // the wake-up under test is the NOTIFY and not that first claim.
      await new Promise((r) => setTimeout(r, 100));
      const t0 = performance.now();
      await producer.enqueue('notify-me', 'MessageSend', null);
      await waitFor(() => startedAt > 0, { what: 'the notified consumer' });
      expect(startedAt - t0).toBeLessThan(150);
    } finally {
      await consumer.close();
    }
  });
});
