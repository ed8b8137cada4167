import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { Metrics } from '../../libs/observability/src/metrics';
import { createDataSource } from '../../libs/persistence/src';
import { PreparedStatement } from '../../libs/persistence/src/prepared-statement';
import { PermanentJobError, type Consumer, type JobContext, type MessageQueue } from '../../libs/queue/src';
import { waitFor } from '../support/services';
import { openDriver, type OpenDriver, type StorageSpec } from './support/drivers';

/** Storage for one suite: a spec to open drivers on, and how to remove it afterwards. */
export interface QueueStorage {
  spec: StorageSpec;
  /** Only one process/driver at a time may open it (PGlite). */
  exclusive: boolean;
  destroy(): Promise<void>;
}

// Small policy so retries take milliseconds: gaps of 100, 200, 400 ms.
const RETRY = { attempts: 4, baseDelayMs: 100, factor: 2, maxDelayMs: 10_000 };
const VISIBILITY_TIMEOUT_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A caller's own rows for `insertWithJobs`: the key of each row stored, none for a row that existed. */
const INSERT_ROWS = new PreparedStatement(
  'contract.insert_rows',
  `INSERT INTO contract_rows (id, v) SELECT x.id, x.v FROM jsonb_to_recordset($1::jsonb) AS x(id text, v int)
   ON CONFLICT (id) DO NOTHING RETURNING id AS key`,
);

/** A promise with its resolver, to hold a handler open until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * The behaviour every `MessageQueue` driver must have. Each driver's spec
 * file provides storage; this suite opens drivers on it and checks the port's
 * guarantees, including across a crashed consumer process and a restart.
 */
export function queueContract(name: string, makeStorage: () => Promise<QueueStorage>): void {
  describe(`MessageQueue contract: ${name}`, () => {
    let storage: QueueStorage;
    let driver: OpenDriver;
    let metrics: Metrics;
    let mq: MessageQueue;
    const consumers: Consumer[] = [];
    const children: ChildProcess[] = [];

    const open = () => openDriver(storage.spec, { retry: { default: RETRY }, visibilityTimeoutMs: VISIBILITY_TIMEOUT_MS, metrics });
    const reopen = async () => {
      driver = await open();
      mq = driver.queue;
    };
    const queueName = (slug: string) => `${slug}-${randomBytes(3).toString('hex')}`;
    const consume = async <T>(queue: string, handler: (job: JobContext<T>) => Promise<void>, options?: Parameters<MessageQueue['consume']>[2]) => {
      const consumer = await mq.consume<T>(queue, handler, options);
      consumers.push(consumer);
      return consumer;
    };

    beforeAll(async () => {
      metrics = new Metrics(new Registry(), { defaultMetrics: false });
      storage = await makeStorage();
      await reopen();
    });

    afterEach(async () => {
      await Promise.all(consumers.splice(0).map((c) => c.close()));
    });

    afterAll(async () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await driver?.close();
      await storage?.destroy();
    });

    it('delivers every job at least once, and exactly once when nothing fails', async () => {
      const queue = queueName('deliver');
      const seen = new Map<string, number>();
      const results = await mq.enqueueMany(
        queue,
        Array.from({ length: 20 }, (_, i) => ({ name: 'MessageSend', payload: { n: i } })),
      );
      expect(results.every((r) => r.created)).toBe(true);
      await consume<{ n: number }>(queue, async (job) => {
        seen.set(job.jobId, (seen.get(job.jobId) ?? 0) + 1);
        expect(job.payload.n).toBeGreaterThanOrEqual(0);
      }, { concurrency: 4 });
      await waitFor(async () => (await mq.getCounts(queue)).completed === 20, { what: '20 completions' });
      expect(seen.size).toBe(20);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      expect(new Set(results.map((r) => r.jobId))).toEqual(new Set(seen.keys()));
    });

    it('treats an enqueue with a known job id as a no-op and says so', async () => {
      const queue = queueName('idempotent');
      expect(await mq.enqueue(queue, 'MessageSend', { v: 1 }, { jobId: 'msg-1' })).toEqual({ jobId: 'msg-1', created: true });
      expect(await mq.enqueue(queue, 'MessageSend', { v: 2 }, { jobId: 'msg-1' })).toEqual({ jobId: 'msg-1', created: false });
      const batch = await mq.enqueueMany(queue, [
        { name: 'MessageSend', payload: { v: 3 }, options: { jobId: 'msg-1' } },
        { name: 'MessageSend', payload: { v: 4 }, options: { jobId: 'msg-2' } },
        { name: 'MessageSend', payload: { v: 5 }, options: { jobId: 'msg-2' } },
      ]);
      expect(batch.map((r) => r.created)).toEqual([false, true, false]);
      const payloads: Array<{ id: string; v: number }> = [];
      await consume<{ v: number }>(queue, async (job) => {
        payloads.push({ id: job.jobId, v: job.payload.v });
      });
      await waitFor(async () => (await mq.getCounts(queue)).completed === 2, { what: 'two completions' });
      expect(payloads).toEqual([
        { id: 'msg-1', v: 1 },
        { id: 'msg-2', v: 4 },
      ]);
      // Still a no-op once the job has completed (ids are kept with completed jobs).
      expect((await mq.enqueue(queue, 'MessageSend', { v: 6 }, { jobId: 'msg-1' })).created).toBe(false);
    });

    it('enqueues across queues with results per batch, each id once per queue', async () => {
      const first = queueName('across-a');
      const second = queueName('across-b');
      await mq.enqueue(first, 'MessageSend', { v: 0 }, { jobId: 'known' });
      const results = await mq.enqueueAcross([
        { queue: first, jobs: [{ name: 'MessageSend', payload: { v: 1 }, options: { jobId: 'known' } }, { name: 'MessageSend', payload: { v: 2 }, options: { jobId: 'a-1' } }] },
        // The same ids in another queue are other jobs; a repeat within the call is created once.
        { queue: second, jobs: [{ name: 'MessageSend', payload: { v: 3 }, options: { jobId: 'known' } }, { name: 'MessageSend', payload: { v: 4 }, options: { jobId: 'known' } }] },
        { queue: first, jobs: [] },
      ]);
      expect(results).toEqual([
        [{ jobId: 'known', created: false }, { jobId: 'a-1', created: true }],
        [{ jobId: 'known', created: true }, { jobId: 'known', created: false }],
        [],
      ]);
      const ran: Array<{ queue: string; id: string; v: number }> = [];
      for (const queue of [first, second]) await consume<{ v: number }>(queue, async (job) => void ran.push({ queue, id: job.jobId, v: job.payload.v }));
      await waitFor(async () => (await mq.getCounts(first)).completed === 2 && (await mq.getCounts(second)).completed === 1, { what: 'three completions' });
      expect(ran.filter((r) => r.queue === first).map((r) => r.v)).toEqual([0, 2]);
      expect(ran.filter((r) => r.queue === second)).toEqual([{ queue: second, id: 'known', v: 3 }]);
    });

    it('stores rows with the jobs of the rows stored, and no job for a row that was not', async () => {
      // The database drivers' rows live beside their jobs (one statement); BullMQ's in a database of their own.
      let own: DataSource | undefined;
      if (!driver.dataSource) {
        own = await createDataSource({});
        await own.initialize();
      }
      const rowsSource = (driver.dataSource ?? own)!;
      try {
        await rowsSource.query('CREATE TABLE IF NOT EXISTS contract_rows (id text PRIMARY KEY, v int NOT NULL)');
        const queue = queueName('with-rows');
        const ids = [0, 1, 2].map((i) => `${queue}-${i}`);
        const write = (rows: Array<{ id: string; v: number }>) => ({ dataSource: rowsSource, statement: INSERT_ROWS, values: [JSON.stringify(rows)] });
        const jobOf = (i: number) => ({ key: ids[i], queue, job: { name: 'MessageSend', payload: { v: i }, options: { jobId: ids[i], newJobId: true } } });
        expect([...(await mq.insertWithJobs(write([{ id: ids[0], v: 0 }]), []))]).toEqual([ids[0]]);

        const stored = await mq.insertWithJobs(write(ids.map((id, v) => ({ id, v }))), [0, 1, 2].map(jobOf));
        expect([...stored].sort()).toEqual([ids[1], ids[2]]);
        expect(await mq.getJob(queue, ids[0])).toBeNull();
        const ran: number[] = [];
        await consume<{ v: number }>(queue, async (job) => void ran.push(job.payload.v));
        await waitFor(async () => (await mq.getCounts(queue)).completed === 2, { what: 'the two jobs of the stored rows' });
        expect(ran).toEqual([1, 2]);
        expect((await rowsSource.query('SELECT count(*)::int AS n FROM contract_rows WHERE id = ANY($1)', [ids]))[0].n).toBe(3);
      } finally {
        await own?.destroy();
      }
    });

    it('adds a job whose id the caller declares new once, even when it is wrongly declared new again', async () => {
      const queue = queueName('new-id');
      expect((await mq.enqueue(queue, 'MessageSend', { v: 1 }, { jobId: 'fresh-1', newJobId: true })).jobId).toBe('fresh-1');
      await mq.enqueueMany(queue, [
        { name: 'MessageSend', payload: { v: 2 }, options: { jobId: 'fresh-2', newJobId: true } },
        { name: 'MessageSend', payload: { v: 3 }, options: { jobId: 'fresh-1', newJobId: true } },
      ]);
      await mq.enqueue(queue, 'MessageSend', { v: 4 }, { jobId: 'fresh-2', newJobId: true });
      // Jobs of one queue run in order: once the last one has run, any duplicate would have run before it.
      await mq.enqueue(queue, 'MessageSend', { v: 5 }, { jobId: 'last', newJobId: true });
      const payloads: Array<{ id: string; v: number }> = [];
      await consume<{ v: number }>(queue, async (job) => {
        payloads.push({ id: job.jobId, v: job.payload.v });
      });
      await waitFor(() => payloads.some((p) => p.id === 'last'), { what: 'the last job' });
      expect(payloads).toEqual([
        { id: 'fresh-1', v: 1 },
        { id: 'fresh-2', v: 2 },
        { id: 'last', v: 5 },
      ]);
    });

    it('runs one queue one job at a time in enqueue order while different queues run in parallel', async () => {
      const queues = [queueName('fifo-a'), queueName('fifo-b'), queueName('fifo-c')];
      const perQueue = 8;
      const runs: Array<{ queue: string; n: number; start: number; end: number }> = [];
      for (const queue of queues) {
        await mq.enqueueMany(queue, Array.from({ length: perQueue }, (_, n) => ({ name: 'MessageSend', payload: { n } })));
      }
      for (const queue of queues) {
        await consume<{ n: number }>(queue, async (job) => {
          const start = performance.now();
          await sleep(25); // the work itself
          runs.push({ queue, n: job.payload.n, start, end: performance.now() });
        }, { concurrency: 1 });
      }
      await waitFor(() => runs.length === queues.length * perQueue, { what: 'all runs' });
      for (const queue of queues) {
        const mine = runs.filter((r) => r.queue === queue).sort((a, b) => a.start - b.start);
        expect(mine.map((r) => r.n)).toEqual(Array.from({ length: perQueue }, (_, n) => n));
        for (let i = 1; i < mine.length; i++) expect(mine[i].start).toBeGreaterThanOrEqual(mine[i - 1].end);
      }
      const overlapsAcrossQueues = runs.some((a) => runs.some((b) => a.queue !== b.queue && a.start < b.end && b.start < a.end));
      expect(overlapsAcrossQueues).toBe(true);
    });

    it('runs higher priority (lower number) first and FIFO within a priority', async () => {
      const queue = queueName('priority');
      await mq.pause(queue);
      await mq.enqueue(queue, 'MessageSend', 'low-1', { priority: 5 });
      await mq.enqueue(queue, 'MessageSend', 'top-1');
      await mq.enqueue(queue, 'MessageSend', 'mid-1', { priority: 2 });
      await mq.enqueue(queue, 'MessageSend', 'top-2');
      await mq.enqueue(queue, 'MessageSend', 'low-2', { priority: 5 });
      const order: string[] = [];
      await consume<string>(queue, async (job) => {
        order.push(job.payload);
      });
      await mq.resume(queue);
      await waitFor(() => order.length === 5, { what: 'five runs' });
      expect(order).toEqual(['top-1', 'top-2', 'mid-1', 'low-1', 'low-2']);
    });

    it('starts a delayed job no earlier than its delay', async () => {
      const queue = queueName('delay');
      const enqueuedAt = Date.now();
      let startedAt = 0;
      await mq.enqueue(queue, 'MessageSend', null, { delayMs: 400 });
      expect((await mq.getCounts(queue)).delayed).toBe(1);
      await consume(queue, async () => {
        startedAt = Date.now();
      });
      await waitFor(() => startedAt > 0, { what: 'the delayed job' });
      expect(startedAt - enqueuedAt).toBeGreaterThanOrEqual(390);
      expect(startedAt - enqueuedAt).toBeLessThan(2000);
    });

    it('spaces retries by the exponential policy (base x factor^n)', async () => {
      const queue = queueName('backoff');
      const starts: number[] = [];
      await mq.enqueue(queue, 'MessageSend', null);
      await consume(queue, async (job) => {
        starts.push(performance.now());
        if (job.attempt < 4) throw new Error(`transient #${job.attempt}`);
      });
      await waitFor(async () => (await mq.getCounts(queue)).completed === 1, { what: 'success on the 4th attempt' });
      expect(starts).toHaveLength(4);
      const gaps = starts.slice(1).map((t, i) => t - starts[i]);
      const expected = [100, 200, 400];
      gaps.forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual(expected[i] * 0.9);
        expect(gap).toBeLessThan(expected[i] + 250);
      });
      // Each gap is its delay plus scheduling noise (tens of ms on a busy machine), so the ratio of the
      // two longest gaps is the robust view of the factor 2.
      expect(gaps[1]).toBeGreaterThan(gaps[0]);
      expect(gaps[2] / gaps[1]).toBeGreaterThan(1.3);
      expect(gaps[2] / gaps[1]).toBeLessThan(2.6);
    });

    it('dead-letters a permanent error at once, without retries', async () => {
      const queue = queueName('permanent');
      let runs = 0;
      const { jobId } = await mq.enqueue(queue, 'MessageSend', { to: 'nobody' });
      await consume(queue, async () => {
        runs += 1;
        throw new PermanentJobError('recipient is not on WhatsApp');
      });
      await waitFor(async () => (await mq.getCounts(queue)).dead === 1, { what: 'a dead letter' });
      expect(runs).toBe(1);
      const job = await mq.getJob(queue, jobId);
      expect(job).toMatchObject({ state: 'dead', attemptsStarted: 1 });
      const [letter] = await mq.listDeadLetters(queue);
      expect(letter).toMatchObject({ jobId, name: 'MessageSend', payload: { to: 'nobody' } });
      expect(letter.error).toContain('recipient is not on WhatsApp');
      expect(letter.history).toHaveLength(1);
    });

    it('dead-letters after the last attempt with every error, and replays it to success', async () => {
      const queue = queueName('exhaust');
      let healthy = false;
      let successes = 0;
      const { jobId } = await mq.enqueue(queue, 'WebhookDeliver', { url: 'x' }, { retry: { attempts: 3, baseDelayMs: 20 } });
      await consume(queue, async (job) => {
        if (!healthy) throw new Error(`endpoint down #${job.attempt}`);
        successes += 1;
      });
      await waitFor(async () => (await mq.getCounts(queue)).dead === 1, { what: 'a dead letter' });
      const [letter] = await mq.listDeadLetters(queue);
      expect(letter.jobId).toBe(jobId);
      expect(letter.error).toContain('endpoint down #3');
      expect(letter.history.map((h) => h.attempt)).toEqual([1, 2, 3]);
      expect(letter.history.map((h) => h.error)).toEqual(['Error: endpoint down #1', 'Error: endpoint down #2', 'Error: endpoint down #3']);
      expect(letter.history.every((h) => h.at instanceof Date && !Number.isNaN(h.at.getTime()))).toBe(true);

      healthy = true;
      expect(await mq.replayDeadLetter(queue, jobId)).toBe(true);
      await waitFor(async () => (await mq.getCounts(queue)).completed === 1, { what: 'the replayed job' });
      expect(successes).toBe(1);
      expect(await mq.listDeadLetters(queue)).toEqual([]);
      expect(await mq.replayDeadLetter(queue, jobId)).toBe(false);
    });

    it('discards a dead letter for good', async () => {
      const queue = queueName('discard');
      const { jobId } = await mq.enqueue(queue, 'MessageSend', null);
      await consume(queue, async () => {
        throw new PermanentJobError('bad input');
      });
      await waitFor(async () => (await mq.listDeadLetters(queue)).length === 1, { what: 'a dead letter' });
      expect(await mq.discardDeadLetter(queue, jobId)).toBe(true);
      expect(await mq.listDeadLetters(queue)).toEqual([]);
      expect(await mq.getJob(queue, jobId)).toBeNull();
      expect(await mq.discardDeadLetter(queue, jobId)).toBe(false);
      expect((await mq.getCounts(queue)).dead).toBe(0);
    });

    it('holds the rate limit of a queue', async () => {
      const queue = queueName('rate');
      const max = 2;
      const windowMs = 300;
      const jobs = 7;
      await mq.setRateLimit(queue, { max, durationMs: windowMs });
      const starts: number[] = [];
      await mq.enqueueMany(queue, Array.from({ length: jobs }, () => ({ name: 'WebhookDeliver', payload: null })));
      await consume(queue, async () => {
        starts.push(performance.now());
      }, { concurrency: 4 });
      await waitFor(() => starts.length === jobs, { what: 'all rate-limited jobs' });
      // 7 jobs at 2 per window need 4 windows: at least 3 full windows between the first and the last start.
      const minimum = (Math.ceil(jobs / max) - 1) * windowMs;
      expect(starts[jobs - 1] - starts[0]).toBeGreaterThanOrEqual(minimum * 0.9);
      // No window-sized stretch holds more than `max` starts... up to two windows' worth across a boundary.
      for (let i = 0; i + 2 * max < jobs; i++) expect(starts[i + 2 * max] - starts[i]).toBeGreaterThanOrEqual(windowMs * 0.9);
      await mq.setRateLimit(queue, null);
    });

    it('pauses and resumes a queue', async () => {
      const queue = queueName('pause');
      await mq.pause(queue);
      await mq.enqueueMany(queue, Array.from({ length: 3 }, () => ({ name: 'MessageSend', payload: null })));
      let runs = 0;
      await consume(queue, async () => {
        runs += 1;
      });
      // Absence can only be observed over a window: longer than the consumers' poll interval.
      await sleep(700);
      expect(runs).toBe(0);
      expect((await mq.getCounts(queue)).waiting).toBe(3);
      await mq.resume(queue);
      // A handler returns before its completion is recorded: wait for the records, then check the runs.
      await waitFor(async () => (await mq.getCounts(queue)).completed === 3, { what: 'three completions after resume' });
      expect(runs).toBe(3);
    });

    it('counts jobs by state and exports the job metrics', async () => {
      const queue = queueName('counts');
      const hold = gate();
      let holding = false;
      await consume<string>(queue, async (job) => {
        if (job.payload === 'bad') throw new PermanentJobError('bad');
        if (job.payload === 'hold') {
          holding = true;
          await hold.promise;
        }
      });
      await mq.enqueue(queue, 'MessageSend', 'done');
      await mq.enqueue(queue, 'MessageSend', 'bad');
      await waitFor(async () => (await mq.getCounts(queue)).dead === 1, { what: 'the dead letter' });
      await mq.enqueue(queue, 'MessageSend', 'hold');
      await waitFor(() => holding, { what: 'the held job' });
      await mq.enqueueMany(queue, [
        { name: 'MessageSend', payload: 'later' },
        { name: 'MessageSend', payload: 'later' },
        { name: 'MessageSend', payload: 'delayed', options: { delayMs: 60_000 } },
      ]);
      expect(await mq.getCounts(queue)).toEqual({ waiting: 2, delayed: 1, active: 1, completed: 1, dead: 1 });
      const size = await metrics.queueSize.get();
      expect(size.values.find((v) => v.labels.queue === queue && v.labels.state === 'active')?.value).toBe(1);
      hold.open();
      await waitFor(async () => (await mq.getCounts(queue)).completed === 4, { what: 'the rest' });
      const processed = await metrics.jobsProcessed.get();
      expect(processed.values.find((v) => v.labels.queue === queue)?.value).toBe(4);
      const failed = await metrics.jobsFailed.get();
      expect(failed.values.find((v) => v.labels.queue === queue && v.labels.final === 'true')?.value).toBe(1);
    });

    it('strict ordering: a job waiting for its retry blocks the jobs behind it', async () => {
      const queue = queueName('strict');
      const events: string[] = [];
      await mq.enqueue(queue, 'MessageSend', 'first');
      await mq.enqueue(queue, 'MessageSend', 'second');
      await consume<string>(queue, async (job) => {
        events.push(`${job.payload}#${job.attempt}`);
        if (job.payload === 'first' && job.attempt < 3) throw new Error('transient');
      }, { ordering: 'strict' });
      await waitFor(async () => (await mq.getCounts(queue)).completed === 2, { what: 'both jobs' });
      expect(events).toEqual(['first#1', 'first#2', 'first#3', 'second#1']);
    });

    it('relaxed ordering (default): later jobs run while a failed job waits for its retry', async () => {
      const queue = queueName('relaxed');
      const events: string[] = [];
      await mq.enqueue(queue, 'MessageSend', 'first');
      await mq.enqueue(queue, 'MessageSend', 'second');
      await consume<string>(queue, async (job) => {
        events.push(`${job.payload}#${job.attempt}`);
        if (job.payload === 'first' && job.attempt < 2) throw new Error('transient');
      });
      await waitFor(async () => (await mq.getCounts(queue)).completed === 2, { what: 'both jobs' });
      expect(events).toEqual(['first#1', 'second#1', 'first#2']);
    });

    it('runs a job again, exactly once more, after its consumer process is killed mid-job', async () => {
      const queue = queueName('crash');
      const { jobId } = await mq.enqueue(queue, 'MessageSend', { to: 'someone' });
      if (storage.exclusive) await driver.close();

      const child = spawn(process.execPath, ['-r', '@swc-node/register', path.join(__dirname, 'support', 'crash-consumer.ts')], {
        cwd: path.resolve(__dirname, '..', '..'),
        env: { ...process.env, QUEUE_CRASH_SPEC: JSON.stringify({ storage: storage.spec, queue, visibilityTimeoutMs: VISIBILITY_TIMEOUT_MS }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await waitFor(() => output.includes(`STARTED ${jobId} 1`), { timeoutMs: 30_000, what: `the child to start the job (output: ${output})` });
      child.kill('SIGKILL');
      await exited;

      if (storage.exclusive) await reopen();
      const runs: number[] = [];
      await consume(queue, async (job) => {
        runs.push(job.attempt);
      });
      await waitFor(async () => (await mq.getCounts(queue)).completed === 1, { timeoutMs: 15_000, what: 'the job to complete after the crash' });
      const job = await mq.getJob(queue, jobId);
      expect(job).toMatchObject({ state: 'completed', attemptsStarted: 2 });
      expect(runs).toHaveLength(1);
      expect(await mq.getCounts(queue)).toMatchObject({ completed: 1, waiting: 0, active: 0, delayed: 0, dead: 0 });
    });

    it('keeps pending jobs across a restart: a new driver finishes what the old one left', async () => {
      const queue = queueName('restart');
      const total = 6;
      const done = new Map<string, number>();
      await mq.enqueueMany(queue, Array.from({ length: total }, (_, n) => ({ name: 'MessageSend', payload: { n }, options: { jobId: `job-${n}` } })));
      const first = await consume(queue, async (job) => {
        await sleep(50);
        done.set(job.jobId, (done.get(job.jobId) ?? 0) + 1);
      });
      await waitFor(() => done.size >= 2, { what: 'two jobs before the restart' });
      await first.close(); // graceful: the running job finishes
      await driver.close();
      const beforeRestart = done.size;
      expect(beforeRestart).toBeLessThan(total);

      await reopen();
      expect((await mq.getCounts(queue)).waiting).toBe(total - beforeRestart);
      await consume(queue, async (job) => {
        done.set(job.jobId, (done.get(job.jobId) ?? 0) + 1);
      });
      await waitFor(() => done.size === total, { what: 'all jobs after the restart' });
      expect([...done.values()].every((n) => n === 1)).toBe(true);
    });
  });
}
