import { randomUUID } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import type { Metrics } from '../../../observability/src/metrics';
import { QueueError, QueueErrorCode } from '../errors';
import {
  Consumer,
  MessageQueue,
  errorMessage,
  type ConsumeOptions,
  type DeadLetter,
  type EnqueueOptions,
  type EnqueueResult,
  type JobHandler,
  type JobInfo,
  type KeyedJob,
  type NewJob,
  type QueueBatch,
  type QueueCounts,
  type RateLimit,
  type RowsInsert,
} from '../message-queue';
import { assertJobName, assertQueueName } from '../names';
import { QueueMetrics } from '../queue-metrics';
import { RetryPolicies, decideAfterFailure, type RetryPolicyConfig } from '../retry-policy';
import { GroupCommit, inRounds } from '../../../persistence/src/group-commit';
import { JobStore, NOTIFY_CHANNEL, jobKey, parseNotification, type ClaimedJob, type ClaimRequest, type ClaimResult, type NewJobRow, type StoredJob } from './job-store';

export interface DatabaseMessageQueueOptions {
  /** The application's data source (PostgreSQL or PGlite) with `queueMigrations` applied. */
  dataSource: DataSource;
  retry?: RetryPolicyConfig;
  metrics?: Metrics;
  /** A running job whose lock is not renewed for this long is given to another consumer (its consumers look for such jobs every quarter of it). Default 30 s. */
  visibilityTimeoutMs?: number;
  /** Safety-net polling when no notification arrives. Default 1 s. */
  pollIntervalMs?: number;
  /**
   * How long a consumer with nothing to do sleeps on its own. Meanwhile one
   * sweep per process (every `pollIntervalMs`) asks the database which of the
   * idle queues have work, so a worker owning hundreds of session queues costs
   * one statement per interval instead of several per queue.
   */
  idlePollMs?: number;
  /** How long completed jobs (and so their ids, for idempotency) are kept. Default 24 h. */
  completedRetentionMs?: number;
  /** How often each consumer refreshes `queue_size` for its queue. Default 15 s; 0 disables. */
  metricsIntervalMs?: number;
  /** LISTEN for inserts made by other processes (pg only). Default true. */
  listen?: boolean;
  onError?: (error: unknown, context: string) => void;
}

const LOST_LOCK_ERROR = 'LockExpired: the consumer stopped renewing its lock (crash or stall)';
/** Claims in one statement at most; more wait for the next. */
const CLAIM_BATCH = 100;

/**
 * `MessageQueue` on a jobs table in the application's own database, for the
 * embedded mode (PGlite) and for PostgreSQL without Redis.
 *
 * Wake-ups: consumers in this process are woken directly by enqueue; other
 * processes by LISTEN/NOTIFY when the data source is a pg pool; polling every
 * `pollIntervalMs` and a timer on the next due job cover everything else
 * (PGlite, lost notifications, delayed jobs).
 */
export class DatabaseMessageQueue extends MessageQueue {
  private readonly store: JobStore;
  private readonly policies: RetryPolicies;
  private readonly metrics: QueueMetrics;
  private readonly consumers = new Set<DatabaseConsumer>();
  /**
   * Claims of consumers that look at the same time share one statement: one
   * insert of sends across connections NOTIFYs a queue each, and every
   * consumer it wakes claims at once. A statement carries one claim per queue.
   */
  private readonly claims = new GroupCommit<ClaimRequest, ClaimResult>((requests) => inRounds(requests, (r) => r.queue, (round) => this.store.claimMany(round)), {
    maxBatch: CLAIM_BATCH,
    maxInFlight: 2,
  });
  private listener?: PoolClient;
  private listenerStarting?: Promise<void>;
  private closed = false;
  private sweepTimer?: NodeJS.Timeout;
  private sweeping = false;
  readonly settings: Required<Omit<DatabaseMessageQueueOptions, 'dataSource' | 'retry' | 'metrics'>>;

  constructor(private readonly options: DatabaseMessageQueueOptions) {
    super();
    this.store = new JobStore(options.dataSource);
    this.policies = new RetryPolicies(options.retry);
    this.metrics = new QueueMetrics(options.metrics);
    this.settings = {
      visibilityTimeoutMs: options.visibilityTimeoutMs ?? 30_000,
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      idlePollMs: options.idlePollMs ?? 30_000,
      completedRetentionMs: options.completedRetentionMs ?? 24 * 60 * 60 * 1000,
      metricsIntervalMs: options.metricsIntervalMs ?? 15_000,
      listen: options.listen ?? true,
      onError: options.onError ?? ((error, context) => console.error(`[queue] ${context}:`, error)),
    };
  }

  async enqueue<T>(queue: string, name: string, payload: T, options?: EnqueueOptions): Promise<EnqueueResult> {
    const [result] = await this.enqueueMany(queue, [{ name, payload, options }]);
    return result;
  }

  async enqueueMany<T>(queue: string, jobs: ReadonlyArray<NewJob<T>>): Promise<EnqueueResult[]> {
    const [results] = await this.enqueueAcross([{ queue, jobs }]);
    return results;
  }

  /** One INSERT for the jobs of every queue (a batch of sends spans many connections' queues). */
  override async enqueueAcross<T>(batches: ReadonlyArray<QueueBatch<T>>): Promise<EnqueueResult[][]> {
    this.assertOpen();
    const perBatch = batches.map(({ queue, jobs }) => jobs.map((job) => this.jobRow(queue, job)));
    const rows = perBatch.flat();
    if (rows.length === 0) return perBatch.map(() => []);
    const created = await this.store.insert(rows);
    this.wakeForNewJobs(rows, created);
    // A repeated id inside one batch is created once: only its first occurrence reports it.
    const seen = new Set<string>();
    return perBatch.map((batch) =>
      batch.map((r) => {
        const key = jobKey(r.queue, r.jobId);
        const first = !seen.has(key);
        seen.add(key);
        return { jobId: r.jobId, created: first && created.has(key) };
      }),
    );
  }

  /**
   * The rows' write and their jobs' INSERT as one statement when the rows are
   * in this driver's database: an accepted send costs one round trip and one
   * commit instead of two, and a crash cannot leave a row without its job.
   */
  override async insertWithJobs<T>(rows: RowsInsert, jobs: ReadonlyArray<KeyedJob<T>>): Promise<Set<string>> {
    if (rows.dataSource !== this.options.dataSource) return super.insertWithJobs(rows, jobs);
    this.assertOpen();
    const jobRows = jobs.map(({ key, queue, job }) => ({ ...this.jobRow(queue, job), key }));
    const { stored, created } = await this.store.insertWithRows(rows.statement, rows.values, jobRows);
    this.wakeForNewJobs(jobRows, created);
    return stored;
  }

  private jobRow<T>(queue: string, job: NewJob<T>): NewJobRow & { queue: string } {
    assertQueueName(queue);
    return {
      queue,
      jobId: job.options?.jobId ?? randomUUID(),
      name: assertJobName(job.name),
      payload: job.payload,
      priority: job.options?.priority ?? 0,
      delayMs: Math.max(0, Math.round(job.options?.delayMs ?? 0)),
      policy: this.policies.resolve(queue, job.options?.retry),
    };
  }

  /**
   * New jobs change no setting: the consumers need not re-read them. While this driver listens, the insert's
   * NOTIFY reaches this process's consumers as well: waking them here too made each consumer claim twice per
   * insert, the second time for nothing (a round trip and a commit per job with API and worker in one process).
   */
  private wakeForNewJobs(rows: ReadonlyArray<{ queue: string; jobId: string }>, created: ReadonlySet<string>): void {
    if (this.listener) return;
    const withNewJobs = new Set(rows.filter((r) => created.has(jobKey(r.queue, r.jobId))).map((r) => r.queue));
    for (const queue of withNewJobs) this.wakeLocal(queue, false);
  }

  async consume<T>(queue: string, handler: JobHandler<T>, options: ConsumeOptions = {}): Promise<Consumer> {
    this.assertOpen();
    assertQueueName(queue);
    const consumer = new DatabaseConsumer(queue, handler as JobHandler, options, this.store, (request) => this.claims.add(request), this.metrics, this.settings, () => {
      this.consumers.delete(consumer);
    });
    this.consumers.add(consumer);
    this.sweepTimer ??= setInterval(() => void this.sweepIdle(), this.settings.pollIntervalMs);
    if (this.settings.listen) await this.startListener();
    if (options.autostart !== false) consumer.start();
    return consumer;
  }

  async pause(queue: string): Promise<void> {
    await this.store.setPaused(assertQueueName(queue), true);
    await this.announce(queue);
  }

  async resume(queue: string): Promise<void> {
    await this.store.setPaused(assertQueueName(queue), false);
    await this.announce(queue);
  }

  async setRateLimit(queue: string, limit: RateLimit | null): Promise<void> {
    if (limit && !(limit.max >= 1 && limit.durationMs >= 1)) throw new RangeError('rate limit needs max >= 1 and durationMs >= 1');
    await this.store.setRateLimit(assertQueueName(queue), limit);
    await this.announce(queue);
  }

  async getCounts(queue: string): Promise<QueueCounts> {
    const counts = await this.store.counts(queue);
    this.metrics.sizes(queue, counts);
    return counts;
  }

  async getJob(queue: string, jobId: string): Promise<JobInfo | null> {
    const job = await this.store.get(queue, jobId);
    return job
      ? { queue, jobId, name: job.name, payload: job.payload, state: job.state, attemptsStarted: job.attemptsMade, maxAttempts: job.maxAttempts, history: job.history }
      : null;
  }

  async listDeadLetters(queue: string, page: { offset?: number; limit?: number } = {}): Promise<DeadLetter[]> {
    const jobs = await this.store.deadLetters(queue, page.offset ?? 0, page.limit ?? 100);
    return jobs.map((job) => toDeadLetter(queue, job));
  }

  async replayDeadLetter(queue: string, jobId: string): Promise<boolean> {
    const replayed = await this.store.replay(queue, jobId);
    if (replayed) await this.announce(queue);
    return replayed;
  }

  discardDeadLetter(queue: string, jobId: string): Promise<boolean> {
    return this.store.discard(queue, jobId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    await Promise.all([...this.consumers].map((c) => c.close()));
    await this.listenerStarting?.catch(() => undefined);
    const listener = this.listener;
    this.listener = undefined;
    if (listener) {
      listener.removeAllListeners('notification');
      // Destroyed rather than returned: a session that was LISTENing has no place in the shared pool.
      this.releaseListener(listener, true);
    }
  }

  /** Wakes consumers here and, through NOTIFY, in other processes (settings changes and replays are not inserts). */
  private async announce(queue: string): Promise<void> {
    this.wakeLocal(queue);
    await this.store.notifySettingsChanged(queue);
  }

  private wakeLocal(queue: string, settingsChanged = true): void {
    for (const consumer of this.consumers) if (consumer.queue === queue) consumer.wake(settingsChanged);
  }

  /** One statement for every idle consumer: wakes those whose queue has due jobs or a lock that ran out. */
  private async sweepIdle(): Promise<void> {
    if (this.sweeping || this.closed) return;
    const idle = [...this.consumers].filter((c) => c.idle);
    if (idle.length === 0) return;
    this.sweeping = true;
    try {
      const due = await this.store.queuesWithWork([...new Set(idle.map((c) => c.queue))]);
      for (const consumer of idle) if (due.has(consumer.queue)) consumer.wake(true);
    } catch (error) {
      this.settings.onError(error, 'sweeping idle queues');
    } finally {
      this.sweeping = false;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new QueueError(QueueErrorCode.Closed, 'the message queue is closed');
  }

  /** pg throws on a second release, and a dead connection can still emit errors after the first. */
  private readonly released = new WeakSet<PoolClient>();

  private releaseListener(client: PoolClient, destroy: boolean | Error): void {
    if (this.released.has(client)) return;
    this.released.add(client);
    client.release(destroy);
  }

  /**
   * One LISTEN connection per driver, taken from the data source's pg pool.
   * PGlite has no pool of sessions to listen on, and needs none: it cannot be
   * shared between processes, so every producer is in this process.
   */
  private startListener(): Promise<void> {
    if (this.listener || this.listenerStarting) return this.listenerStarting ?? Promise.resolve();
    const master: unknown = (this.options.dataSource.driver as unknown as { master?: unknown }).master;
    if (!(master instanceof Pool)) return Promise.resolve();
    this.listenerStarting = (async () => {
      try {
        const client = await master.connect();
        client.on('notification', (message) => {
          if (message.channel !== NOTIFY_CHANNEL || !message.payload) return;
          // New jobs (the insert trigger) only wake: re-reading settings for each would cost two statements per consumer per insert.
          const { queue, settingsChanged } = parseNotification(message.payload);
          this.wakeLocal(queue, settingsChanged);
        });
        client.on('error', (error) => {
          if (this.released.has(client)) return;
          // Polling keeps consumers going; the next consume() call listens again.
          this.settings.onError(error, 'queue listener connection');
          if (this.listener === client) this.listener = undefined;
          this.releaseListener(client, error);
        });
        await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
        if (this.closed) this.releaseListener(client, true);
        else this.listener = client;
      } catch (error) {
        this.settings.onError(error, 'starting the queue listener (falling back to polling)');
      } finally {
        this.listenerStarting = undefined;
      }
    })();
    return this.listenerStarting;
  }
}

interface RunningJob {
  jobId: string;
  lockToken: string;
  done: Promise<void>;
}

/** One queue's claim loop in this process. */
class DatabaseConsumer extends Consumer {
  private readonly running = new Map<string, RunningJob>();
  private readonly concurrency: number;
  private readonly strict: boolean;
  private started = false;
  private closing = false;
  private loop?: Promise<void>;
  private woken = false;
  private wakeSleeper?: () => void;
  /** The next look the loop owes a job left waiting for its due time (see `lookWithin`). */
  private lookTimer?: { at: number; timer: NodeJS.Timeout };
  private rateLimit: RateLimit | null = null;
  /** Cached so a paused queue is not polled hot; the claim statement re-checks it anyway. */
  private paused = false;
  private nextMaintenanceAt = 0;
  private nextMetricsAt = 0;
  private nextPurgeAt = 0;
  private renewTimer?: NodeJS.Timeout;
  /** Nothing running and nothing due at the last look: the process-wide sweep watches this queue. */
  idle = false;

  constructor(
    readonly queue: string,
    private readonly handler: JobHandler,
    options: ConsumeOptions,
    private readonly store: JobStore,
    private readonly claimJobs: (request: ClaimRequest) => Promise<ClaimResult>,
    private readonly metrics: QueueMetrics,
    private readonly settings: DatabaseMessageQueue['settings'],
    private readonly onClosed: () => void,
  ) {
    super();
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    this.strict = options.ordering === 'strict';
  }

  start(): void {
    if (this.started || this.closing) return;
    this.started = true;
    this.renewTimer = setInterval(() => void this.renewLocks(), Math.max(50, Math.floor(this.settings.visibilityTimeoutMs / 3)));
    this.loop = this.run();
  }

  /** `settingsChanged`: pause, rate limit or a replay may have changed, re-read settings before claiming. */
  wake(settingsChanged = false): void {
    if (settingsChanged) this.nextMaintenanceAt = 0;
    this.woken = true;
    this.wakeSleeper?.();
  }

  async close(): Promise<void> {
    if (this.closing) return this.loop;
    this.closing = true;
    this.wake();
    await this.loop;
    // A job that completed while closing began may have claimed its successor: wait for those too.
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((r) => r.done));
    clearInterval(this.renewTimer);
    if (this.lookTimer) clearTimeout(this.lookTimer.timer);
    this.onClosed();
  }

  private async run(): Promise<void> {
    while (!this.closing) {
      let sleepMs = this.settings.pollIntervalMs;
      this.idle = false;
      try {
        // Cleared before reading anything: a wake-up that arrives from here on makes the next sleep return at once.
        this.woken = false;
        await this.maintain();
        const free = this.concurrency - this.running.size;
        if (free > 0) {
          const { claimed, retryInMs } = await this.claim(free);
          for (const job of claimed) this.execute(job);
          if (claimed.length === free) continue;
          if (retryInMs !== null) sleepMs = Math.min(sleepMs, retryInMs);
          else if (claimed.length === 0 && this.running.size === 0) {
            this.idle = true;
            sleepMs = this.settings.idlePollMs;
          }
        }
      } catch (error) {
        if (this.closing) break;
        this.settings.onError(error, `claiming from ${this.queue}`);
      }
      await this.sleep(sleepMs);
    }
  }

  /** Claims up to `wanted` jobs; when it got fewer, says how long until it is worth asking again. */
  private async claim(wanted: number): Promise<{ claimed: ClaimedJob[]; retryInMs: number | null }> {
    if (this.paused || (this.strict && this.running.size > 0)) return { claimed: [], retryInMs: null };
    const token = randomUUID();
    const vis = this.settings.visibilityTimeoutMs;
    let limit = this.strict ? 1 : wanted;
    let reservation = null;
    if (this.rateLimit) {
      reservation = await this.store.reserveStarts(this.queue, limit);
      if (reservation === null) this.rateLimit = null;
      else if (reservation.granted === 0) return { claimed: [], retryInMs: Math.max(1, reservation.windowLeftMs) };
      else limit = reservation.granted;
    }
    let nextDue: number | null | undefined;
    let claimed: ClaimedJob[];
    if (this.strict) claimed = await this.store.claimHead(this.queue, token, vis);
    else ({ claimed, nextDueInMs: nextDue } = await this.claimJobs({ queue: this.queue, limit, lockToken: token, visibilityMs: vis }));
    if (reservation && claimed.length < reservation.granted) {
      await this.store.returnStarts(this.queue, reservation.windowStart, reservation.granted - claimed.length);
    }
    if (claimed.length === wanted) return { claimed, retryInMs: null };
    if (reservation && claimed.length === reservation.granted && reservation.granted < wanted) {
      // Held back by the rate limit: ask again when the window ends.
      return { claimed, retryInMs: Math.max(1, reservation.windowLeftMs) };
    }
    // The strict claim does not say (its head may be a running job): ask.
    if (nextDue === undefined) nextDue = await this.store.headDueInMs(this.queue);
    if (nextDue === null) return { claimed, retryInMs: null };
    // Due now but not claimed: rows locked by a concurrent claimer. Back off a little.
    if (nextDue === 0) return { claimed, retryInMs: 10 };
    return { claimed, retryInMs: nextDue };
  }

  private execute(job: ClaimedJob): void {
    const done = this.process(job)
      .catch((error: unknown) => {
        this.settings.onError(error, `running ${this.queue}/${job.jobId}`);
        return 0;
      })
      .then((lookInMs) => {
        this.running.delete(job.jobId);
        this.lookWithin(lookInMs);
      });
    this.running.set(job.jobId, { jobId: job.jobId, lockToken: job.lockToken, done });
  }

  /**
   * After a job: when the claim loop should look at the queue again (0: now).
   * Null when the completion saw no job waiting: new ones announce themselves
   * (NOTIFY, or the local wake), and the loop's own poll turns the consumer
   * idle. Waking the loop after every such completion cost one claim that
   * found nothing per job.
   */
  private lookWithin(ms: number | null): void {
    if (ms === null || this.closing) return;
    if (ms <= 0) return this.wake();
    const at = Date.now() + ms;
    if (this.lookTimer && this.lookTimer.at <= at) return;
    if (this.lookTimer) clearTimeout(this.lookTimer.timer);
    const timer = setTimeout(() => {
      this.lookTimer = undefined;
      this.wake();
    }, ms);
    this.lookTimer = { at, timer };
  }

  /** Runs the job and records its outcome; returns when the claim loop should look again (see `lookWithin`). */
  private async process(job: ClaimedJob): Promise<number | null> {
    try {
      await this.handler({ queue: this.queue, jobId: job.jobId, name: job.name, payload: job.payload, attempt: job.attempt, maxAttempts: job.policy.attempts });
    } catch (error) {
      const decision = decideAfterFailure(job.policy, job.attempt, error);
      try {
        const recorded = await this.store.fail(this.queue, job.jobId, job.lockToken, job.attempt, errorMessage(error), decision.final ? null : decision.delayMs);
        if (recorded) this.metrics.failed(this.queue, decision.final);
      } catch (storeError) {
        // The lock runs out and the job is retried: at-least-once holds.
        this.settings.onError(storeError, `recording the failure of ${this.queue}/${job.jobId}`);
      }
      return 0;
    }
    try {
      if (!this.mayClaimWithCompletion()) {
        if (await this.store.complete(this.queue, job.jobId, job.lockToken)) this.metrics.completed(this.queue);
        return 0;
      }
      const { completed, next, nextDueInMs } = await this.store.completeAndClaimNext(this.queue, job.jobId, job.lockToken, randomUUID(), this.settings.visibilityTimeoutMs);
      if (completed) this.metrics.completed(this.queue);
      // Registered before this job leaves `running`: the claim loop never sees the slot free, so it claims nothing for it.
      if (next) this.execute(next);
      return nextDueInMs;
    } catch (storeError) {
      this.settings.onError(storeError, `completing ${this.queue}/${job.jobId}`);
      return 0;
    }
  }

  /**
   * Whether a completing job may claim its successor in the same statement:
   * not while closing, nor under a rate limit (starts are reserved first) or
   * strict ordering (only the head may run), nor when the queue's chores are
   * due (a settings change announced meanwhile makes them due at once): the
   * claim loop then runs them before it claims. A pause is re-checked by the
   * statement itself.
   */
  private mayClaimWithCompletion(): boolean {
    return !this.closing && !this.paused && this.rateLimit === null && !this.strict && Date.now() < this.nextMaintenanceAt;
  }

  private async renewLocks(): Promise<void> {
    const held = [...this.running.values()].map(({ jobId, lockToken }) => ({ jobId, lockToken }));
    if (held.length === 0) return;
    try {
      await this.store.renewLocks(this.queue, held, this.settings.visibilityTimeoutMs);
    } catch (error) {
      this.settings.onError(error, `renewing locks on ${this.queue}`);
    }
  }

  /** Periodic chores of the queue, each on its own cadence: lost locks, settings, purge, metrics. */
  private async maintain(): Promise<void> {
    const now = Date.now();
    if (now >= this.nextMaintenanceAt) {
      // A settings change is announced (a local wake, or NOTIFY with the settings mark) and re-read at once; this
      // cadence is the fallback for a lost notification and the look for runs whose lock ran out, so a quarter of
      // the visibility timeout is soon enough (and 50 busy consumers do not cost 100 statements a second).
      this.nextMaintenanceAt = now + Math.max(50, this.settings.pollIntervalMs, this.settings.visibilityTimeoutMs / 4);
      ({ paused: this.paused, rateLimit: this.rateLimit } = await this.store.settings(this.queue));
      for (const lost of await this.store.releaseExpired(this.queue, LOST_LOCK_ERROR)) this.metrics.failed(this.queue, lost.dead);
    }
    if (now >= this.nextPurgeAt) {
      this.nextPurgeAt = now + 60_000;
      await this.store.purgeCompleted(this.queue, this.settings.completedRetentionMs);
    }
    if (this.metrics.enabled && this.settings.metricsIntervalMs > 0 && now >= this.nextMetricsAt) {
      this.nextMetricsAt = now + this.settings.metricsIntervalMs;
      this.metrics.sizes(this.queue, await this.store.counts(this.queue));
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.closing) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wakeSleeper = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(finish, Math.max(1, ms));
      this.wakeSleeper = finish;
    });
  }
}

function toDeadLetter(queue: string, job: StoredJob): DeadLetter {
  return {
    queue,
    jobId: job.jobId,
    name: job.name,
    payload: job.payload,
    error: job.lastError ?? '',
    failedAt: job.finishedAt ?? new Date(0),
    history: job.history,
  };
}
