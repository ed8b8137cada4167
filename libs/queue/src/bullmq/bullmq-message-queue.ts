import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions, type MinimalJob } from 'bullmq';
import { Redis } from 'ioredis';
import type { Metrics } from '../../../observability/src/metrics';
import { QueueError, QueueErrorCode } from '../errors';
import {
  Consumer,
  MessageQueue,
  emptyCounts,
  errorMessage,
  type AttemptRecord,
  type ConsumeOptions,
  type DeadLetter,
  type EnqueueOptions,
  type EnqueueResult,
  type JobHandler,
  type JobInfo,
  type JobState,
  type NewJob,
  type QueueCounts,
  type RateLimit,
} from '../message-queue';
import { assertJobName, assertQueueName } from '../names';
import { QueueMetrics } from '../queue-metrics';
import { RetryPolicies, backoffDelayMs, decideAfterFailure, type RetryPolicy, type RetryPolicyConfig } from '../retry-policy';

export interface BullmqMessageQueueOptions {
  /** A Redis URL, or an ioredis client to share for producing (the driver does not close a client it was given). */
  redis: string | Redis;
  /** Key prefix; one per deployment (and per test file). Default `wagw`. */
  prefix?: string;
  retry?: RetryPolicyConfig;
  metrics?: Metrics;
  /** BullMQ lock duration: a job whose worker stops renewing it is stalled after this long. Default 30 s. */
  visibilityTimeoutMs?: number;
  /** How often workers look for stalled jobs. Default: the visibility timeout. */
  stalledCheckIntervalMs?: number;
  /** How many times a job may be recovered from a stalled worker before it fails. Default 1 (BullMQ's). */
  maxStalledCount?: number;
  /** How long completed jobs (and so their ids, for idempotency) are kept. Default 24 h. */
  completedRetentionMs?: number;
  /** How often each consumer refreshes `queue_size` for its queue. Default 15 s; 0 disables. */
  metricsIntervalMs?: number;
  onError?: (error: unknown, context: string) => void;
}

/** What the driver stores as BullMQ job data: the payload plus the policy resolved at enqueue time. */
interface Envelope {
  payload: unknown;
  policy: RetryPolicy;
}

/** Custom backoff type name; the delay comes from the job's own policy. */
const BACKOFF_TYPE = 'policy';

/**
 * `MessageQueue` on BullMQ, for the distributed mode. Producers share one
 * ioredis connection (Queue instances are cached per queue name). Workers
 * share one non-blocking connection and each opens the blocking connection
 * BullMQ needs, so a consumer costs one Redis connection.
 *
 * Attempt history: each failed attempt appends a JSON line to the job's log,
 * so a dead letter (BullMQ's failed set) keeps every attempt's error.
 */
export class BullmqMessageQueue extends MessageQueue {
  private readonly producer: Redis;
  private readonly ownsProducer: boolean;
  private workerConnection?: Redis;
  private readonly queues = new Map<string, Queue>();
  private readonly consumers = new Set<BullmqConsumer>();
  private readonly policies: RetryPolicies;
  private readonly metrics: QueueMetrics;
  private readonly prefix: string;
  private closed = false;
  private readonly settings: {
    visibilityTimeoutMs: number;
    stalledCheckIntervalMs: number;
    maxStalledCount: number;
    completedRetentionMs: number;
    metricsIntervalMs: number;
    onError: (error: unknown, context: string) => void;
  };

  constructor(private readonly options: BullmqMessageQueueOptions) {
    super();
    this.ownsProducer = typeof options.redis === 'string';
    this.producer = typeof options.redis === 'string' ? new Redis(options.redis, { lazyConnect: false }) : options.redis;
    this.prefix = options.prefix ?? 'wagw';
    this.policies = new RetryPolicies(options.retry);
    this.metrics = new QueueMetrics(options.metrics);
    const visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.settings = {
      visibilityTimeoutMs,
      stalledCheckIntervalMs: options.stalledCheckIntervalMs ?? visibilityTimeoutMs,
      maxStalledCount: options.maxStalledCount ?? 1,
      completedRetentionMs: options.completedRetentionMs ?? 24 * 60 * 60 * 1000,
      metricsIntervalMs: options.metricsIntervalMs ?? 15_000,
      onError: options.onError ?? ((error, context) => console.error(`[queue] ${context}:`, error)),
    };
    this.producer.on('error', (error) => this.settings.onError(error, 'redis producer connection'));
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.producer, prefix: this.prefix });
      queue.on('error', (error) => this.settings.onError(error, `queue ${name}`));
      this.queues.set(name, queue);
    }
    return queue;
  }

  private jobOptions(queue: string, options: EnqueueOptions | undefined): { jobId: string; opts: JobsOptions; policy: RetryPolicy } {
    const policy = this.policies.resolve(queue, options?.retry);
    const jobId = options?.jobId ?? randomUUID();
    return {
      jobId,
      policy,
      opts: {
        jobId,
        delay: options?.delayMs && options.delayMs > 0 ? Math.round(options.delayMs) : undefined,
        priority: options?.priority && options.priority > 0 ? options.priority : undefined,
        attempts: policy.attempts,
        backoff: { type: BACKOFF_TYPE },
        removeOnComplete: { age: Math.ceil(this.settings.completedRetentionMs / 1000) },
        removeOnFail: false,
      },
    };
  }

  async enqueue<T>(queue: string, name: string, payload: T, options?: EnqueueOptions): Promise<EnqueueResult> {
    this.assertOpen();
    assertQueueName(queue);
    assertJobName(name);
    const { jobId, opts, policy } = this.jobOptions(queue, options);
    // BullMQ treats a known id as a no-op but does not say so; ask first when the caller chose the id.
    const existed = options?.jobId !== undefined && !options.newJobId && (await this.producer.exists(this.jobKey(queue, jobId))) === 1;
    if (existed) return { jobId, created: false };
    await this.queue(queue).add(name, { payload, policy } satisfies Envelope, opts);
    return { jobId, created: true };
  }

  async enqueueMany<T>(queue: string, jobs: ReadonlyArray<NewJob<T>>): Promise<EnqueueResult[]> {
    this.assertOpen();
    assertQueueName(queue);
    if (jobs.length === 0) return [];
    const prepared = jobs.map((job) => ({ job, name: assertJobName(job.name), ...this.jobOptions(queue, job.options) }));
    const chosen = prepared.filter((p) => p.job.options?.jobId !== undefined && !p.job.options.newJobId);
    const existing = new Set<string>();
    if (chosen.length > 0) {
      const pipeline = this.producer.pipeline();
      for (const p of chosen) pipeline.exists(this.jobKey(queue, p.jobId));
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([error, value], i) => {
        if (error) throw error;
        if (value === 1) existing.add(chosen[i].jobId);
      });
    }
    const seen = new Set<string>();
    const results = prepared.map((p) => {
      const created = !existing.has(p.jobId) && !seen.has(p.jobId);
      seen.add(p.jobId);
      return { jobId: p.jobId, created };
    });
    const toAdd = prepared.filter((_, i) => results[i].created);
    // One add per job, not addBulk: addBulk builds an ioredis Pipeline per call, onto which ioredis copies every
    // script command. Each add is a socket write of its own instead (corking the socket to make them one write saved
    // a tenth of the Redis write time and did not change the enqueue tail). At about 800 jobs/s in batches of two,
    // addBulk made the process promote ~5 MB/s of short-lived objects to the old generation (add: ~0.1 MB/s), and
    // the gateway paid for it with a major GC every few seconds, each one a stall of tens of ms for every request
    // in flight. Jobs of one call are independent either way (addBulk's pipeline is not a transaction).
    const queueOfJobs = this.queue(queue);
    await Promise.all(toAdd.map((p) => queueOfJobs.add(p.name, { payload: p.job.payload, policy: p.policy } satisfies Envelope, p.opts)));
    return results;
  }

  async consume<T>(queue: string, handler: JobHandler<T>, options: ConsumeOptions = {}): Promise<Consumer> {
    this.assertOpen();
    assertQueueName(queue);
    if (!this.workerConnection) {
      // Workers need maxRetriesPerRequest: null (BullMQ's requirement for its connections).
      this.workerConnection = this.producer.duplicate({ maxRetriesPerRequest: null });
      this.workerConnection.on('error', (error) => this.settings.onError(error, 'redis worker connection'));
    }
    const consumer = new BullmqConsumer(queue, handler as JobHandler, options, {
      connection: this.workerConnection,
      prefix: this.prefix,
      metrics: this.metrics,
      settings: this.settings,
      queue: () => this.queue(queue),
      onClosed: () => this.consumers.delete(consumer),
    });
    this.consumers.add(consumer);
    if (options.autostart !== false) consumer.start();
    return consumer;
  }

  async pause(queue: string): Promise<void> {
    await this.queue(assertQueueName(queue)).pause();
  }

  async resume(queue: string): Promise<void> {
    await this.queue(assertQueueName(queue)).resume();
  }

  async setRateLimit(queue: string, limit: RateLimit | null): Promise<void> {
    const q = this.queue(assertQueueName(queue));
    if (limit === null) {
      await q.removeGlobalRateLimit();
      return;
    }
    if (!(limit.max >= 1 && limit.durationMs >= 1)) throw new RangeError('rate limit needs max >= 1 and durationMs >= 1');
    await q.setGlobalRateLimit(limit.max, limit.durationMs);
  }

  async getCounts(queue: string): Promise<QueueCounts> {
    const counts = await countJobs(this.queue(queue));
    this.metrics.sizes(queue, counts);
    return counts;
  }

  async getJob(queue: string, jobId: string): Promise<JobInfo | null> {
    const q = this.queue(queue);
    const job = await q.getJob(jobId);
    if (!job) return null;
    const [state, history] = await Promise.all([job.getState(), attemptHistory(q, jobId)]);
    const envelope = job.data as Envelope;
    return {
      queue,
      jobId,
      name: job.name,
      payload: envelope.payload,
      state: toJobState(state),
      attemptsStarted: job.attemptsStarted,
      maxAttempts: job.opts.attempts ?? 1,
      history,
    };
  }

  async listDeadLetters(queue: string, page: { offset?: number; limit?: number } = {}): Promise<DeadLetter[]> {
    const q = this.queue(queue);
    const offset = page.offset ?? 0;
    const jobs = await q.getFailed(offset, offset + (page.limit ?? 100) - 1);
    return Promise.all(
      jobs.map(async (job) => ({
        queue,
        jobId: String(job.id),
        name: job.name,
        payload: (job.data as Envelope).payload,
        error: job.failedReason,
        failedAt: new Date(job.finishedOn ?? 0),
        history: await attemptHistory(q, String(job.id)),
      })),
    );
  }

  async replayDeadLetter(queue: string, jobId: string): Promise<boolean> {
    const job = await this.queue(queue).getJob(jobId);
    if (!job || !(await job.isFailed())) return false;
    await job.retry('failed');
    return true;
  }

  async discardDeadLetter(queue: string, jobId: string): Promise<boolean> {
    const job = await this.queue(queue).getJob(jobId);
    if (!job || !(await job.isFailed())) return false;
    await job.remove();
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
    if (this.workerConnection) await this.workerConnection.quit().catch(() => this.workerConnection?.disconnect());
    if (this.ownsProducer) await this.producer.quit().catch(() => this.producer.disconnect());
  }

  private jobKey(queue: string, jobId: string): string {
    return `${this.prefix}:${queue}:${jobId}`;
  }

  private assertOpen(): void {
    if (this.closed) throw new QueueError(QueueErrorCode.Closed, 'the message queue is closed');
  }
}

interface ConsumerDeps {
  connection: Redis;
  prefix: string;
  metrics: QueueMetrics;
  settings: BullmqMessageQueue['settings'];
  queue: () => Queue;
  onClosed: () => void;
}

/** One BullMQ Worker for one queue. */
class BullmqConsumer extends Consumer {
  private readonly worker: Worker;
  private readonly strict: boolean;
  private metricsTimer?: NodeJS.Timeout;
  private closing?: Promise<void>;
  private started = false;

  constructor(
    readonly queue: string,
    private readonly handler: JobHandler,
    options: ConsumeOptions,
    private readonly deps: ConsumerDeps,
  ) {
    super();
    this.strict = options.ordering === 'strict';
    const { settings } = deps;
    this.worker = new Worker(queue, (job) => this.process(job), {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: this.strict ? 1 : Math.max(1, Math.floor(options.concurrency ?? 1)),
      autorun: false,
      lockDuration: settings.visibilityTimeoutMs,
      stalledInterval: settings.stalledCheckIntervalMs,
      maxStalledCount: settings.maxStalledCount,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, _error?: Error, job?: MinimalJob) =>
          backoffDelayMs((job?.data as Envelope | undefined)?.policy ?? { attempts: 1, baseDelayMs: 1000, factor: 2, maxDelayMs: 3_600_000 }, attemptsMade),
      },
    });
    this.worker.on('error', (error) => settings.onError(error, `worker ${queue}`));
  }

  start(): void {
    if (this.started || this.closing) return;
    this.started = true;
    this.worker.run().catch((error) => this.deps.settings.onError(error, `worker ${this.queue}`));
    const { metrics, settings } = this.deps;
    if (metrics.enabled && settings.metricsIntervalMs > 0) {
      this.metricsTimer = setInterval(() => {
        countJobs(this.deps.queue())
          .then((counts) => metrics.sizes(this.queue, counts))
          .catch((error) => settings.onError(error, `counting ${this.queue}`));
      }, settings.metricsIntervalMs);
      this.metricsTimer.unref();
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.metricsTimer);
      await this.worker.close();
      this.deps.onClosed();
    })();
    return this.closing;
  }

  /**
   * Runs the handler and applies the retry policy. Relaxed ordering leaves
   * the retry to BullMQ (the job waits in the delayed set, later jobs run).
   * Strict ordering retries here, holding the job and its lock, so nothing
   * behind it starts; a crash during the wait hands the job to the stalled
   * check like any crash.
   */
  private async process(job: Job): Promise<void> {
    const envelope = job.data as Envelope;
    let attempt = job.attemptsMade + 1;
    for (;;) {
      try {
        await this.handler({ queue: this.queue, jobId: String(job.id), name: job.name, payload: envelope.payload, attempt, maxAttempts: envelope.policy.attempts });
        this.deps.metrics.completed(this.queue);
        return;
      } catch (error) {
        const decision = decideAfterFailure(envelope.policy, attempt, error);
        const record: AttemptRecord = { attempt, error: errorMessage(error), at: new Date() };
        await job.log(JSON.stringify(record)).catch((logError) => this.deps.settings.onError(logError, `logging an attempt of ${this.queue}/${job.id}`));
        this.deps.metrics.failed(this.queue, decision.final);
        if (decision.final) {
          // UnrecoverableError makes BullMQ fail the job now whatever attempts remain.
          throw decision.reason === 'permanent' || this.strict ? new UnrecoverableError(record.error) : error;
        }
        if (!this.strict) throw error;
        await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
        attempt += 1;
      }
    }
  }
}

async function countJobs(queue: Queue): Promise<QueueCounts> {
  const raw = await queue.getJobCounts('wait', 'prioritized', 'waiting-children', 'delayed', 'active', 'completed', 'failed');
  const counts = emptyCounts();
  counts.waiting = (raw.wait ?? 0) + (raw.prioritized ?? 0) + (raw['waiting-children'] ?? 0);
  counts.delayed = raw.delayed ?? 0;
  counts.active = raw.active ?? 0;
  counts.completed = raw.completed ?? 0;
  counts.dead = raw.failed ?? 0;
  return counts;
}

async function attemptHistory(queue: Queue, jobId: string): Promise<AttemptRecord[]> {
  const { logs } = await queue.getJobLogs(jobId, 0, -1, true);
  const history: AttemptRecord[] = [];
  for (const line of logs) {
    try {
      const parsed = JSON.parse(line) as { attempt: number; error: string; at: string };
      if (typeof parsed.attempt === 'number') history.push({ attempt: parsed.attempt, error: parsed.error, at: new Date(parsed.at) });
    } catch {
      // Not one of ours: a handler may log free text.
    }
  }
  return history;
}

function toJobState(state: string): JobState {
  switch (state) {
    case 'delayed':
      return 'delayed';
    case 'active':
      return 'active';
    case 'completed':
      return 'completed';
    case 'failed':
      return 'dead';
    default:
      return 'waiting';
  }
}
