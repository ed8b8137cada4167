import type { EventEmitter } from 'node:events';
import type { DataSource } from 'typeorm';
import { PreparedStatement } from '../../libs/persistence/src/prepared-statement';
import { DatabaseMessageQueue } from '../../libs/queue/src';
import { createTestDatabase, describeWithServices, waitFor } from '../support/services';
import { openDataSource } from './support/drivers';

/**
 * What the database driver costs the database between one job and the next:
 * a consumer working through a backlog completes a job and claims the next in
 * one statement, and new jobs announced by another process wake consumers
 * without making each of them re-read its queue's settings. Two drivers on
 * separate pools stand for two processes; the consumer's statements are counted.
 */
/** Until the driver has one consumer per queue and each of them is idle (its first look done, nothing running). */
async function untilIdle(driver: DatabaseMessageQueue, queues: string[]): Promise<void> {
  const consumers = () => [...(driver as unknown as { consumers: Set<{ idle: boolean; queue: string }> }).consumers].filter((c) => queues.includes(c.queue));
  await waitFor(() => consumers().length === queues.length && consumers().every((c) => c.idle), { what: `${queues.length} consumer(s) idle` });
}

describeWithServices(['postgres'], 'database driver round trips', () => {
  let database: { url: string; drop: () => Promise<void> };
  let producerSource: DataSource;
  let consumerSource: DataSource;
  let producer: DatabaseMessageQueue;
  let consumer: DatabaseMessageQueue;
  const statements: string[] = [];
  const count = (pattern: RegExp) => statements.filter((sql) => pattern.test(sql)).length;
  /** Claim statements (however many consumers' claims each carries). */
  const claims = () => count(/CROSS JOIN LATERAL \(\s*SELECT seq FROM queue_jobs/);

  beforeAll(async () => {
    database = await createTestDatabase('queue_trips');
    producerSource = await openDataSource({ driver: 'postgres', url: database.url });
    consumerSource = await openDataSource({ driver: 'postgres', url: database.url });
    // Counted where every statement leaves, prepared or not: on each connection the consumer's pool hands out.
    const counted = new WeakSet<object>();
    (consumerSource.driver as unknown as { master: EventEmitter }).master.on('acquire', (client: { query: (config: unknown, ...rest: unknown[]) => unknown }) => {
      if (counted.has(client)) return;
      counted.add(client);
      const query = client.query.bind(client);
      client.query = (config, ...rest) => {
        statements.push(typeof config === 'string' ? config : (config as { text: string }).text);
        return query(config, ...rest);
      };
    });
    producer = new DatabaseMessageQueue({ dataSource: producerSource, listen: false });
    consumer = new DatabaseMessageQueue({ dataSource: consumerSource, pollIntervalMs: 1000, idlePollMs: 60_000 });
  });

  afterAll(async () => {
    await consumer?.close();
    await producer?.close();
    await consumerSource?.destroy();
    await producerSource?.destroy();
    await database?.drop();
  });

  it('completes each job of a backlog and claims the next in one statement, in order', async () => {
    const queue = 'message-send.backlog';
    const jobs = 30;
    await producer.enqueueMany(queue, Array.from({ length: jobs }, (_, i) => ({ name: 'MessageSend', payload: i, options: { jobId: `job-${i}` } })));
    const seen: number[] = [];
    statements.length = 0;
    const worker = await consumer.consume<number>(queue, async (job) => {
      seen.push(job.payload);
    });
    try {
      await waitFor(async () => (await producer.getCounts(queue)).completed === jobs, { what: 'every job completed' });
      expect(seen).toEqual(Array.from({ length: jobs }, (_, i) => i));
      // The first claim, then one statement per job that also claims its successor (the last finds none).
      expect(count(/UPDATE queue_jobs SET state = 'completed'/)).toBe(jobs);
      expect(claims()).toBeLessThanOrEqual(2);
      // Every claim, alone or with a completion, says when the next job left waiting is due in the same statement.
      expect(count(/min\(run_at\)/)).toBe(claims() + jobs);
    } finally {
      await worker.close();
    }
  });

  it('wakes on new jobs from another process without re-reading the queue settings each time', async () => {
    const queue = 'message-send.notified';
    const seen: number[] = [];
    const worker = await consumer.consume<number>(queue, async (job) => {
      seen.push(job.payload);
    });
    try {
      await waitFor(() => count(/FROM queue_settings WHERE queue/) > 0, { what: 'the first look at the settings' });
      statements.length = 0;
      const started = Date.now();
      const jobs = 20;
      for (let i = 0; i < jobs; i++) {
        // One at a time, each waited for: every one of them arrives by NOTIFY (the producer's insert trigger).
        await producer.enqueue(queue, 'MessageSend', i);
        await waitFor(() => seen.length === i + 1, { intervalMs: 5, what: `job ${i}` });
      }
      const elapsedMs = Date.now() - started;
      // Settings are re-read on their own cadence (here once a second), not once per notification.
      expect(count(/FROM queue_settings WHERE queue/)).toBeLessThanOrEqual(1 + Math.ceil(elapsedMs / 1000));
    } finally {
      await worker.close();
    }
  });

  it('claims once per new job when it enqueues and consumes in the same process', async () => {
    const queue = 'message-send.same-process';
    const seen: number[] = [];
    // Room for more than one job at a time, as the send worker has: every wake-up while a slot is free is a claim.
    const worker = await consumer.consume<number>(
      queue,
      async (job) => {
        seen.push(job.payload);
      },
      { concurrency: 4 },
    );
    try {
      await untilIdle(consumer, [queue]);
      statements.length = 0;
      const started = Date.now();
      const jobs = 20;
      for (let i = 0; i < jobs; i++) {
        // The insert's NOTIFY reaches this same driver: that wake-up is the only one it needs.
        await consumer.enqueue(queue, 'MessageSend', i);
        await waitFor(() => seen.length === i + 1, { intervalMs: 5, what: `job ${i}` });
      }
      const elapsedMs = Date.now() - started;
      expect(seen).toEqual(Array.from({ length: jobs }, (_, i) => i));
      // Per job, the claim that takes it; besides, the loop's own poll (once a second here). A second wake-up per
      // insert (the local one on top of the NOTIFY) made it two per job, and a look after each completion that
      // found the queue empty one more.
      expect(claims()).toBeLessThanOrEqual(jobs + 2 + Math.ceil(elapsedMs / 1000));
    } finally {
      await worker.close();
    }
  });

  it('runs a job left waiting for its due time when it is due, though the consumer polls rarely', async () => {
    const queue = 'message-send.due-later';
    const rarely = new DatabaseMessageQueue({ dataSource: consumerSource, pollIntervalMs: 30_000, idlePollMs: 60_000 });
    const ran: Array<{ payload: string; at: number }> = [];
    try {
      const worker = await rarely.consume<string>(queue, async (job) => void ran.push({ payload: job.payload, at: Date.now() }));
      await untilIdle(rarely, [queue]);
      const enqueuedAt = Date.now();
      await producer.enqueueMany(queue, [
        { name: 'MessageSend', payload: 'later', options: { delayMs: 800 } },
        { name: 'MessageSend', payload: 'now' },
      ]);
      // 'now' completes in the statement that tells when 'later' is due: the consumer looks again then, not at its next poll.
      await waitFor(() => ran.length === 2, { timeoutMs: 10_000, what: 'both jobs' });
      expect(ran.map((r) => r.payload)).toEqual(['now', 'later']);
      expect(ran[1].at - enqueuedAt).toBeGreaterThanOrEqual(750);
      expect(ran[1].at - enqueuedAt).toBeLessThan(5_000);
      await worker.close();
    } finally {
      await rarely.close();
    }
  });

  it('claims for the consumers one insert wakes in one statement', async () => {
    const queues = Array.from({ length: 10 }, (_, q) => `message-send.woken-${q}`);
    const ran = new Set<string>();
    const workers = await Promise.all(queues.map((queue) => consumer.consume<number>(queue, async () => void ran.add(queue))));
    try {
      await untilIdle(consumer, queues);
      statements.length = 0;
      // One insert, one NOTIFY per queue, all read at once: each consumer wakes and claims in the same turn.
      await producer.enqueueAcross(queues.map((queue) => ({ queue, jobs: [{ name: 'MessageSend', payload: 0 }] })));
      await waitFor(() => ran.size === queues.length, { what: 'a job run on every queue' });
      // Ten claims in one or two statements (one per consumer before).
      expect(claims()).toBeLessThanOrEqual(2);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('runs each job once when two consumers of one queue in one process claim at the same time', async () => {
    const queue = 'message-send.two-consumers';
    const runs = new Map<string, number>();
    const record = async (job: { jobId: string }) => void runs.set(job.jobId, (runs.get(job.jobId) ?? 0) + 1);
    const workers = [await consumer.consume(queue, record, { concurrency: 3 }), await consumer.consume(queue, record, { concurrency: 3 })];
    try {
      for (let round = 0; round < 5; round++) {
        // Both are woken by the same NOTIFY and claim in the same turn: a shared statement must not hand both the same jobs.
        await producer.enqueueMany(queue, Array.from({ length: 6 }, (_, i) => ({ name: 'MessageSend', payload: i })));
        await waitFor(() => runs.size === (round + 1) * 6, { what: `round ${round}` });
      }
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('stores a batch of jobs for many queues in one statement', async () => {
    const queues = Array.from({ length: 10 }, (_, q) => `message-send.across-${q}`);
    statements.length = 0;
    const results = await consumer.enqueueAcross(queues.map((queue) => ({ queue, jobs: [0, 1].map((i) => ({ name: 'MessageSend', payload: i })) })));
    expect(results.flat().filter((r) => r.created)).toHaveLength(20);
    // One statement for the whole batch, where one per queue was ten.
    expect(count(/INSERT INTO queue_jobs/)).toBe(1);
    for (const queue of queues) expect((await producer.getCounts(queue)).waiting).toBe(2);
  });

  it('stores rows and the jobs of the rows stored in one statement', async () => {
    await consumerSource.query('CREATE TABLE IF NOT EXISTS trip_rows (id text PRIMARY KEY)');
    await consumerSource.query(`INSERT INTO trip_rows (id) VALUES ('row-known')`);
    const rows = new PreparedStatement('trips.insert_rows', `INSERT INTO trip_rows (id) SELECT jsonb_array_elements_text($1::jsonb) ON CONFLICT (id) DO NOTHING RETURNING id AS key`);
    const ids = ['row-known', 'row-1', 'row-2'];
    statements.length = 0;
    const stored = await consumer.insertWithJobs(
      { dataSource: consumerSource, statement: rows, values: [JSON.stringify(ids)] },
      ids.map((id) => ({ key: id, queue: `message-send.${id}`, job: { name: 'MessageSend', payload: id, options: { jobId: id } } })),
    );
    expect([...stored].sort()).toEqual(['row-1', 'row-2']);
    // The rows' INSERT and the jobs' in one statement: one round trip and one commit, where the write then the enqueue were two.
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/INSERT INTO trip_rows[\s\S]*INSERT INTO queue_jobs/);
    expect((await producer.getCounts('message-send.row-known')).waiting).toBe(0);
    for (const id of ['row-1', 'row-2']) expect((await producer.getCounts(`message-send.${id}`)).waiting).toBe(1);
  });

  it('applies a rate limit set through another process before claiming the jobs announced after it', async () => {
    const queue = 'message-send.limited';
    const seen: number[] = [];
    const worker = await consumer.consume<number>(queue, async (job) => {
      seen.push(job.payload);
    });
    try {
      // Its first look done (a claim racing the new limit could start one job outside it).
      await untilIdle(consumer, [queue]);
      await producer.setRateLimit(queue, { max: 2, durationMs: 60_000 });
      await producer.enqueueMany(queue, Array.from({ length: 5 }, (_, i) => ({ name: 'MessageSend', payload: i })));
      await waitFor(async () => (await producer.getCounts(queue)).completed === 2, { what: 'two jobs within the limit' });
      // Nothing more may start in this window: watch for a while.
      const watchUntil = Date.now() + 500;
      while (Date.now() < watchUntil) {
        expect(seen).toEqual([0, 1]);
        await new Promise((r) => setTimeout(r, 25));
      }
      expect((await producer.getCounts(queue)).waiting).toBe(3);
    } finally {
      await worker.close();
    }
  });
});
