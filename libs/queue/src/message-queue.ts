import type { DataSource } from 'typeorm';
import type { PreparedStatement } from '../../persistence/src/prepared-statement';
import type { RetryPolicy } from './retry-policy';

/**
 * The queue port. Sends, webhook deliveries and session commands go through
 * it, so its guarantees are the product's:
 * - at-least-once: a job whose consumer dies is run again after the
 *   visibility timeout (handlers must be idempotent);
 * - idempotent enqueue: a job id is unique per queue while the job is kept;
 * - per-queue order: a consumer with concurrency 1 runs the jobs of its queue
 *   one at a time in (priority, enqueue) order;
 * - retries with the shared backoff policy, then a dead letter that keeps
 *   every attempt's error and can be replayed or discarded.
 *
 * Two drivers implement it (BullMQ on Redis, a jobs table on PostgreSQL or
 * PGlite) and pass one contract suite (test/queue/queue-contract.ts).
 */
export abstract class MessageQueue {
  /** Adds a job. With a `jobId` that already exists in the queue it is a no-op that reports `created: false`. */
  abstract enqueue<T = unknown>(queue: string, name: string, payload: T, options?: EnqueueOptions): Promise<EnqueueResult>;

  /** Adds many jobs to one queue in as few round trips as the backend allows; results follow input order. */
  abstract enqueueMany<T = unknown>(queue: string, jobs: ReadonlyArray<NewJob<T>>): Promise<EnqueueResult[]>;

  /**
   * Adds jobs to several queues; results follow input order, one list per
   * batch. Here one `enqueueMany` per queue; a driver that can store jobs of
   * many queues in one round trip overrides it.
   */
  enqueueAcross<T = unknown>(batches: ReadonlyArray<QueueBatch<T>>): Promise<EnqueueResult[][]> {
    return Promise.all(batches.map(({ queue, jobs }) => this.enqueueMany(queue, jobs)));
  }

  /**
   * Writes the caller's rows, then adds the job of each row the write stored
   * (and of no other); resolves to the stored rows' keys. Here the write, then
   * `enqueueAcross`: a crash between the two leaves rows without their jobs,
   * which the caller must be able to find again (sends: the reconciler). A
   * driver that keeps its jobs in the rows' database overrides it to do both
   * in one statement: one round trip and one commit, and no such moment.
   */
  async insertWithJobs<T = unknown>(rows: RowsInsert, jobs: ReadonlyArray<KeyedJob<T>>): Promise<Set<string>> {
    const stored = new Set((await rows.statement.rows<{ key: unknown }>(rows.dataSource, rows.values)).map((row) => String(row.key)));
    const byQueue = new Map<string, Array<NewJob<T>>>();
    for (const { key, queue, job } of jobs) {
      if (!stored.has(key)) continue;
      const batch = byQueue.get(queue);
      if (batch) batch.push(job);
      else byQueue.set(queue, [job]);
    }
    if (byQueue.size > 0) await this.enqueueAcross([...byQueue].map(([queue, batch]) => ({ queue, jobs: batch })));
    return stored;
  }

  /**
   * Starts processing one queue in this process. Cheap and explicit so a
   * worker can start a consumer per owned session and close it when the
   * session is lost.
   */
  abstract consume<T = unknown>(queue: string, handler: JobHandler<T>, options?: ConsumeOptions): Promise<Consumer>;

  /** Pauses the queue for every consumer in every process; running jobs finish. */
  abstract pause(queue: string): Promise<void>;
  abstract resume(queue: string): Promise<void>;

  /** At most `max` job starts per `durationMs` for the queue across all consumers; `null` removes the limit. */
  abstract setRateLimit(queue: string, limit: RateLimit | null): Promise<void>;

  /** Job counts by state (also refreshes the `queue_size` gauge). */
  abstract getCounts(queue: string): Promise<QueueCounts>;

  abstract getJob(queue: string, jobId: string): Promise<JobInfo | null>;

  /** Dead letters, most recent first. */
  abstract listDeadLetters(queue: string, page?: { offset?: number; limit?: number }): Promise<DeadLetter[]>;
  /** Puts a dead letter back in the queue with a fresh set of attempts; false when no such dead letter. */
  abstract replayDeadLetter(queue: string, jobId: string): Promise<boolean>;
  /** Deletes a dead letter for good; false when no such dead letter. */
  abstract discardDeadLetter(queue: string, jobId: string): Promise<boolean>;

  /** Closes every consumer (waiting for running handlers) and the driver's own connections. */
  abstract close(): Promise<void>;
}

/** A running consumer of one queue. */
export abstract class Consumer {
  abstract readonly queue: string;
  /** Starts a consumer created with `autostart: false` (workers start once their dependencies are healthy). */
  abstract start(): void;
  /** Stops taking jobs and waits for the running handlers to finish. */
  abstract close(): Promise<void>;
}

export interface EnqueueOptions {
  /** Idempotency key, unique per queue (e.g. the message id). Generated when absent. */
  jobId?: string;
  delayMs?: number;
  /** Lower runs first; 0 (the default) is the highest priority. Order is FIFO within one priority. */
  priority?: number;
  /** Overrides the queue's retry policy for this job. */
  retry?: Partial<RetryPolicy>;
  /**
   * The caller has just created `jobId` for work it has never enqueued (the id
   * of a row it inserted a moment ago), so a driver may skip asking whether the
   * job exists. The add stays idempotent; only `created` is then reported true
   * without a check.
   */
  newJobId?: boolean;
}

export interface NewJob<T = unknown> {
  name: string;
  payload: T;
  options?: EnqueueOptions;
}

export interface QueueBatch<T = unknown> {
  queue: string;
  jobs: ReadonlyArray<NewJob<T>>;
}

/**
 * A write of the caller's rows: one statement, its parameters numbered from
 * $1, that returns a `key` column for each row it stored (and none for a row
 * it left out, such as a conflict). Its text must not end in a semicolon: a
 * driver may run it inside a larger statement.
 */
export interface RowsInsert {
  dataSource: DataSource;
  statement: PreparedStatement;
  values: unknown[];
}

/** A job to add if, and only if, the row with `key` was stored by the same `insertWithJobs`. */
export interface KeyedJob<T = unknown> {
  key: string;
  queue: string;
  job: NewJob<T>;
}

export interface EnqueueResult {
  jobId: string;
  /** False when a job with this id already existed (nothing was added). */
  created: boolean;
}

export interface JobContext<T = unknown> {
  queue: string;
  jobId: string;
  name: string;
  payload: T;
  /** 1 for the first run, 2 for the first retry, ... */
  attempt: number;
  maxAttempts: number;
}

/** Resolves when the job succeeded; throws to fail the attempt (`PermanentJobError` for no retry). */
export type JobHandler<T = unknown> = (job: JobContext<T>) => Promise<void>;

export interface ConsumeOptions {
  /** Jobs run at the same time by this consumer. 1 (the default) gives one-at-a-time FIFO. */
  concurrency?: number;
  /**
   * `relaxed` (default): a failed job waits for its retry in the delayed set and
   * the jobs behind it run meanwhile.
   * `strict`: a job that is waiting for a retry blocks the jobs behind it in the
   * same queue, so jobs never overtake each other. Use with concurrency 1.
   */
  ordering?: 'relaxed' | 'strict';
  /** Default true. With false, call `start()` when ready. */
  autostart?: boolean;
}

export interface RateLimit {
  max: number;
  durationMs: number;
}

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'dead';
export const JOB_STATES: readonly JobState[] = ['waiting', 'delayed', 'active', 'completed', 'dead'];
export type QueueCounts = Record<JobState, number>;

export interface AttemptRecord {
  attempt: number;
  error: string;
  at: Date;
}

export interface JobInfo<T = unknown> {
  queue: string;
  jobId: string;
  name: string;
  payload: T;
  state: JobState;
  /** Runs started so far, including one cut short by a crash. */
  attemptsStarted: number;
  maxAttempts: number;
  history: AttemptRecord[];
}

export interface DeadLetter<T = unknown> {
  queue: string;
  jobId: string;
  name: string;
  payload: T;
  /** The last error. */
  error: string;
  failedAt: Date;
  /** Every failed attempt, oldest first. */
  history: AttemptRecord[];
}

export const emptyCounts = (): QueueCounts => ({ waiting: 0, delayed: 0, active: 0, completed: 0, dead: 0 });

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : typeof error === 'string' ? error : JSON.stringify(error);
