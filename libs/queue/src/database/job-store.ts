import type { DataSource } from 'typeorm';
import { PreparedStatement } from '../../../persistence/src/prepared-statement';
import { queryRows } from '../../../persistence/src/query-rows';
import { emptyCounts, type AttemptRecord, type JobState, type QueueCounts, type RateLimit } from '../message-queue';
import type { RetryPolicy } from '../retry-policy';

/** Wake-up channel shared by the migration's trigger and the driver's LISTEN. */
export const NOTIFY_CHANNEL = 'queue_jobs';

/**
 * Appended to the queue name when a notification announces a change of its
 * settings (pause, rate limit) or a replay, not new jobs. The insert trigger
 * sends the bare name; a space cannot occur in a queue name.
 */
const SETTINGS_MARK = ' settings';

/** What a notification on `NOTIFY_CHANNEL` says: which queue, and whether its consumers must re-read its settings. */
export function parseNotification(payload: string): { queue: string; settingsChanged: boolean } {
  return payload.endsWith(SETTINGS_MARK) ? { queue: payload.slice(0, -SETTINGS_MARK.length), settingsChanged: true } : { queue: payload, settingsChanged: false };
}

export interface ClaimRequest {
  queue: string;
  limit: number;
  lockToken: string;
  visibilityMs: number;
}

export interface ClaimResult {
  claimed: ClaimedJob[];
  nextDueInMs: number | null;
}

/** A job's identity across queues (job ids are unique per queue only). */
export const jobKey = (queue: string, jobId: string) => `${queue}\0${jobId}`;

export interface NewJobRow {
  jobId: string;
  name: string;
  payload: unknown;
  priority: number;
  delayMs: number;
  policy: RetryPolicy;
}

/** A new job as the INSERT's JSON parameter spells it. */
const jobRecord = (j: NewJobRow & { queue: string }) => ({
  queue: j.queue,
  job_id: j.jobId,
  name: j.name,
  payload: j.payload === undefined ? null : j.payload,
  priority: j.priority,
  delay_ms: j.delayMs,
  max_attempts: j.policy.attempts,
  backoff_base_ms: j.policy.baseDelayMs,
  backoff_factor: j.policy.factor,
  backoff_max_ms: j.policy.maxDelayMs,
});

export interface ClaimedJob {
  seq: bigint;
  jobId: string;
  name: string;
  payload: unknown;
  /** 1-based number of this run. */
  attempt: number;
  lockToken: string;
  policy: RetryPolicy;
}

export interface StoredJob {
  jobId: string;
  name: string;
  payload: unknown;
  state: JobState;
  attemptsMade: number;
  maxAttempts: number;
  lastError: string | null;
  finishedAt: Date | null;
  history: AttemptRecord[];
}

export interface RateReservation {
  /** Job starts granted in the current window. */
  granted: number;
  windowStart: string;
  windowLeftMs: number;
}

type Row = Record<string, unknown>;

/** The claim's SET, given SQL for the lock token (text) and the visibility timeout (ms, int): parameters or columns. */
function claimSet(token: string, visibility: string): string {
  return `state = 'active', attempts_made = j.attempts_made + 1, lock_token = ${token},
       locked_until = now() + ${visibility} * interval '1 millisecond', started_at = now()`;
}
const CLAIM_SET = claimSet('$3::text', '$4::int');
const CLAIM_RETURNING = `RETURNING j.seq::text AS seq, j.job_id, j.name, j.payload, j.attempts_made, j.max_attempts,
       j.backoff_base_ms, j.backoff_factor, j.backoff_max_ms`;
/** The queue (SQL for its name) is not paused. */
const notPaused = (queue: string) => `NOT EXISTS (SELECT 1 FROM queue_settings s WHERE s.queue = ${queue} AND s.paused)`;
const NOT_PAUSED = notPaused('$1::text');
/** After a claim CTE `c`: when the first job it left waiting is due (one row, null when none waits). */
const NEXT_DUE = `next_due AS (
         -- The statement's snapshot still shows the claimed rows as waiting: leave them out.
         SELECT min(run_at) AS at FROM queue_jobs
         WHERE queue = $1::text AND state = 'waiting' AND seq NOT IN (SELECT seq FROM c))`;
const NEXT_DUE_MS = `CASE WHEN next_due.at IS NULL THEN NULL ELSE GREATEST(0, EXTRACT(EPOCH FROM (next_due.at - now())) * 1000)::float8 END AS next_due_ms`;

/** The INSERT of new jobs from a JSON array parameter, in array order; `filter` narrows the rows (a WHERE clause on `x`). */
const insertJobs = (param: string, filter = '') =>
  `INSERT INTO queue_jobs (queue, job_id, name, payload, priority, run_at, max_attempts, backoff_base_ms, backoff_factor, backoff_max_ms)
       SELECT x.queue, x.job_id, x.name, COALESCE(x.payload, 'null'::jsonb), x.priority,
              now() + x.delay_ms * interval '1 millisecond', x.max_attempts, x.backoff_base_ms, x.backoff_factor, x.backoff_max_ms
       FROM jsonb_array_elements(${param}::jsonb) WITH ORDINALITY AS e(job, ord)
       CROSS JOIN LATERAL jsonb_to_record(e.job) AS x(key text, queue text, job_id text, name text, payload jsonb, priority int, delay_ms int,
            max_attempts int, backoff_base_ms int, backoff_factor float8, backoff_max_ms int)
       ${filter}
       ORDER BY e.ord
       ON CONFLICT (queue, job_id) DO NOTHING
       RETURNING queue, job_id`;

// The statements every job runs (enqueue, claim, renew, finish) are prepared: see PreparedStatement.
const INSERT = new PreparedStatement('queue.insert', insertJobs('$1'));

/**
 * A caller's write of rows and the INSERT of the jobs of the rows it stored,
 * as one statement (see `insertWithRows`), prepared once per write.
 */
const withRowsStatements = new Map<string, PreparedStatement>();
function insertWithRowsStatement(rows: PreparedStatement, rowValues: number): PreparedStatement {
  const name = `${rows.name}+queue.insert`;
  let statement = withRowsStatements.get(name);
  if (!statement) {
    statement = new PreparedStatement(
      name,
      `WITH stored AS (${rows.text}),
       jobs AS (${insertJobs(`$${rowValues + 1}`, 'WHERE x.key IN (SELECT key::text FROM stored)')})
       SELECT key::text AS key, NULL::text AS queue, NULL::text AS job_id FROM stored
       UNION ALL SELECT NULL, queue, job_id FROM jobs`,
    );
    withRowsStatements.set(name, statement);
  }
  return statement;
}

/** Claims for many queues (one request each, distinct queues) as one statement; each request names its lock token. */
const CLAIM = new PreparedStatement(
  'queue.claim',
  `WITH r AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(queue text, lim int, token text, vis int)),
       c AS (
         SELECT r.token, r.vis, w.seq FROM r
         CROSS JOIN LATERAL (
           SELECT seq FROM queue_jobs
           WHERE queue = r.queue AND state = 'waiting' AND run_at <= now()
             AND ${notPaused('r.queue')}
           ORDER BY priority, seq LIMIT r.lim FOR UPDATE SKIP LOCKED) w),
       claimed AS (
         UPDATE queue_jobs j SET ${claimSet('c.token', 'c.vis')}
         FROM c WHERE j.seq = c.seq
         ${CLAIM_RETURNING}, j.queue AS claimed_queue),
       next_due AS (
         -- The statement's snapshot still shows the claimed rows as waiting: leave them out.
         SELECT r.queue, (SELECT min(run_at) FROM queue_jobs q WHERE q.queue = r.queue AND q.state = 'waiting' AND q.seq NOT IN (SELECT seq FROM c)) AS at
         FROM r)
       SELECT next_due.queue AS request_queue, ${NEXT_DUE_MS}, claimed.* FROM next_due LEFT JOIN claimed ON claimed.claimed_queue = next_due.queue`,
);

const CLAIM_HEAD = new PreparedStatement(
  'queue.claim_head',
  `WITH head AS (
         SELECT seq FROM queue_jobs
         WHERE queue = $1::text AND (state = 'active' OR (state = 'waiting' AND (run_at <= now() OR attempts_made > 0)))
         ORDER BY priority, seq LIMIT 1)
       UPDATE queue_jobs j SET ${CLAIM_SET}
       FROM head
       WHERE j.seq = head.seq AND j.state = 'waiting' AND j.run_at <= now() AND ${NOT_PAUSED} AND $2::int > 0
       ${CLAIM_RETURNING}`,
);

const RENEW_LOCKS = new PreparedStatement(
  'queue.renew_locks',
  `UPDATE queue_jobs j SET locked_until = now() + $3::int * interval '1 millisecond'
       FROM jsonb_to_recordset($2::jsonb) AS h(job_id text, lock_token text)
       WHERE j.queue = $1::text AND j.job_id = h.job_id AND j.lock_token = h.lock_token AND j.state = 'active'
       RETURNING j.job_id`,
);

const COMPLETE = new PreparedStatement(
  'queue.complete',
  `UPDATE queue_jobs SET state = 'completed', finished_at = now(), lock_token = NULL, locked_until = NULL
       WHERE queue = $1::text AND job_id = $2::text AND lock_token = $3::text AND state = 'active'
       RETURNING job_id`,
);

const COMPLETE_AND_CLAIM_NEXT = new PreparedStatement(
  'queue.complete_and_claim_next',
  `WITH done AS (
         UPDATE queue_jobs SET state = 'completed', finished_at = now(), lock_token = NULL, locked_until = NULL
         WHERE queue = $1::text AND job_id = $2::text AND lock_token = $3::text AND state = 'active'
         RETURNING job_id),
       c AS (
         SELECT seq FROM queue_jobs
         WHERE queue = $1::text AND state = 'waiting' AND run_at <= now() AND ${NOT_PAUSED}
         ORDER BY priority, seq LIMIT 1 FOR UPDATE SKIP LOCKED),
       claimed AS (
         UPDATE queue_jobs j SET ${claimSet('$4::text', '$5::int')}
         FROM c WHERE j.seq = c.seq
         ${CLAIM_RETURNING}),
       ${NEXT_DUE}
       SELECT (SELECT count(*) FROM done)::int AS completed, ${NEXT_DUE_MS}, claimed.* FROM next_due LEFT JOIN claimed ON true`,
);

const FAIL = new PreparedStatement(
  'queue.fail',
  `UPDATE queue_jobs SET
         state = CASE WHEN $6::int IS NULL THEN 'dead' ELSE 'waiting' END,
         run_at = CASE WHEN $6::int IS NULL THEN run_at ELSE now() + $6::int * interval '1 millisecond' END,
         finished_at = CASE WHEN $6::int IS NULL THEN now() END,
         lock_token = NULL, locked_until = NULL, last_error = $5::text,
         history = history || jsonb_build_array(jsonb_build_object('attempt', $4::int, 'error', $5::text, 'at', now()))
       WHERE queue = $1::text AND job_id = $2::text AND lock_token = $3::text AND state = 'active'
       RETURNING job_id`,
);

/**
 * Every SQL statement of the database driver. Each operation is ONE statement,
 * so it is atomic on its own: no transaction spans two round trips. That keeps
 * the driver correct on PGlite too, where typeorm-pglite runs every "connection"
 * on one shared session and an open BEGIN would swallow other callers' queries.
 */
export class JobStore {
  constructor(private readonly dataSource: DataSource) {}

  private rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    return queryRows(this.dataSource, sql, params);
  }

  private run(statement: PreparedStatement, params: unknown[]): Promise<Row[]> {
    return statement.rows<Row>(this.dataSource, params);
  }

  /**
   * Inserts jobs of any number of queues in one statement, in order; returns
   * the ones that were new (the others already existed) as `jobKey`s.
   */
  async insert(jobs: ReadonlyArray<NewJobRow & { queue: string }>): Promise<Set<string>> {
    const rows = await this.run(INSERT, [JSON.stringify(jobs.map(jobRecord))]);
    return new Set(rows.map((r) => jobKey(String(r.queue), String(r.job_id))));
  }

  /**
   * Runs the caller's write of rows (`rows`, returning a `key` per stored row)
   * and inserts the jobs whose `key` it stored, in one statement: the rows and
   * their jobs commit together or not at all. Returns the stored rows' keys and
   * the new jobs as `jobKey`s.
   */
  async insertWithRows(
    rows: PreparedStatement,
    rowValues: readonly unknown[],
    jobs: ReadonlyArray<NewJobRow & { queue: string; key: string }>,
  ): Promise<{ stored: Set<string>; created: Set<string> }> {
    const result = await this.run(insertWithRowsStatement(rows, rowValues.length), [...rowValues, JSON.stringify(jobs.map((j) => ({ ...jobRecord(j), key: j.key })))]);
    const stored = new Set<string>();
    const created = new Set<string>();
    for (const r of result) {
      if (r.key !== null) stored.add(String(r.key));
      else created.add(jobKey(String(r.queue), String(r.job_id)));
    }
    return { stored, created };
  }

  /**
   * For each request, claims up to `limit` due jobs of its queue, in
   * (priority, seq) order, all in one statement; the queues must be distinct.
   * SKIP LOCKED lets many consumers claim from one queue without waiting for
   * each other. In the same statement: how long until the next of the jobs it
   * left waiting is due (`nextDueInMs`), which a consumer that got fewer than
   * it asked for needs next; null when none waits. Results follow the requests.
   */
  async claimMany(requests: readonly ClaimRequest[]): Promise<ClaimResult[]> {
    const rows = await this.run(CLAIM, [JSON.stringify(requests.map((r) => ({ queue: r.queue, lim: r.limit, token: r.lockToken, vis: r.visibilityMs })))]);
    const byQueue = new Map<string, Row[]>();
    for (const row of rows) {
      const queue = String(row.request_queue);
      const own = byQueue.get(queue);
      if (own) own.push(row);
      else byQueue.set(queue, [row]);
    }
    return requests.map((request) => {
      const own = byQueue.get(request.queue) ?? [];
      const claimed = own.filter((r) => r.job_id != null).map((r) => toClaimed(r, request.lockToken)).sort((a, b) => (a.seq < b.seq ? -1 : 1));
      const nextDue = own[0]?.next_due_ms;
      return { claimed, nextDueInMs: nextDue == null ? null : Number(nextDue) };
    });
  }

  /**
   * Strict order: only the head of the queue may run. The head is the first
   * job that is running, due, or waiting for a retry; a job with an initial
   * delay does not block until it is due. Two claimers may pick the same head:
   * the row lock and the re-checked `state = 'waiting'` let only one win.
   */
  async claimHead(queue: string, lockToken: string, visibilityMs: number): Promise<ClaimedJob[]> {
    const rows = await this.run(CLAIM_HEAD, [queue, 1, lockToken, visibilityMs]);
    return rows.map((r) => toClaimed(r, lockToken));
  }

  /** Which of these queues have a job due now, or a running job whose lock ran out. */
  async queuesWithWork(queues: string[]): Promise<Set<string>> {
    const rows = await this.rows(
      `SELECT DISTINCT queue FROM queue_jobs
        WHERE queue = ANY($1::text[]) AND ((state = 'waiting' AND run_at <= now()) OR (state = 'active' AND locked_until < now()))`,
      [queues],
    );
    return new Set(rows.map((r) => String(r.queue)));
  }

  /** Strict order: milliseconds until the head job is due, null when the head is running or the queue is empty. */
  async headDueInMs(queue: string): Promise<number | null> {
    const [row] = await this.rows(
      `SELECT state, GREATEST(0, EXTRACT(EPOCH FROM (run_at - now())) * 1000)::float8 AS ms FROM queue_jobs
       WHERE queue = $1::text AND (state = 'active' OR (state = 'waiting' AND (run_at <= now() OR attempts_made > 0)))
       ORDER BY priority, seq LIMIT 1`,
      [queue],
    );
    return !row || row.state === 'active' ? null : Number(row.ms);
  }

  /** Extends the locks this consumer holds; returns the job ids whose lock is still ours. */
  async renewLocks(queue: string, held: ReadonlyArray<{ jobId: string; lockToken: string }>, visibilityMs: number): Promise<Set<string>> {
    if (held.length === 0) return new Set();
    const rows = await this.run(RENEW_LOCKS, [queue, JSON.stringify(held.map((h) => ({ job_id: h.jobId, lock_token: h.lockToken }))), visibilityMs]);
    return new Set(rows.map((r) => String(r.job_id)));
  }

  /** Marks a job completed if this consumer still holds it (the token fences a run that lost its lock). */
  async complete(queue: string, jobId: string, lockToken: string): Promise<boolean> {
    const rows = await this.run(COMPLETE, [queue, jobId, lockToken]);
    return rows.length === 1;
  }

  /**
   * `complete`, and in the same statement the claim of the queue's next due
   * job under a new lock token (what a consumer that just freed a slot would
   * claim next): one round trip and one commit instead of two between one
   * job and the next. The claim does not depend on the completion (a run
   * that lost its lock still frees its consumer's slot). Like `claim`, it
   * says when the first job it left waiting is due (`nextDueInMs`).
   */
  async completeAndClaimNext(
    queue: string,
    jobId: string,
    lockToken: string,
    nextToken: string,
    visibilityMs: number,
  ): Promise<{ completed: boolean; next: ClaimedJob | null; nextDueInMs: number | null }> {
    const [row] = await this.run(COMPLETE_AND_CLAIM_NEXT, [queue, jobId, lockToken, nextToken, visibilityMs]);
    return {
      completed: Number(row?.completed ?? 0) === 1,
      next: row?.job_id == null ? null : toClaimed(row, nextToken),
      nextDueInMs: row?.next_due_ms == null ? null : Number(row.next_due_ms),
    };
  }

  /** Records a failed attempt and either schedules the retry (`retryInMs`) or makes the job a dead letter (`null`). */
  async fail(queue: string, jobId: string, lockToken: string, attempt: number, error: string, retryInMs: number | null): Promise<boolean> {
    const rows = await this.run(FAIL, [queue, jobId, lockToken, attempt, error, retryInMs]);
    return rows.length === 1;
  }

  /**
   * Puts back the jobs whose consumer stopped renewing its lock (a crash, a
   * partition). The lost run counts as an attempt, so a job that kills its
   * consumer every time ends as a dead letter instead of looping forever.
   */
  async releaseExpired(queue: string, error: string): Promise<Array<{ jobId: string; dead: boolean }>> {
    const rows = await this.rows(
      `UPDATE queue_jobs SET
         state = CASE WHEN attempts_made >= max_attempts THEN 'dead' ELSE 'waiting' END,
         finished_at = CASE WHEN attempts_made >= max_attempts THEN now() END,
         run_at = now(), lock_token = NULL, locked_until = NULL, last_error = $2::text,
         history = history || jsonb_build_array(jsonb_build_object('attempt', attempts_made, 'error', $2::text, 'at', now()))
       WHERE queue = $1::text AND state = 'active' AND locked_until < now()
       RETURNING job_id, state`,
      [queue, error],
    );
    return rows.map((r) => ({ jobId: String(r.job_id), dead: r.state === 'dead' }));
  }

  /** Deletes completed jobs older than the retention (which is also how long a job id stays idempotent). */
  async purgeCompleted(queue: string, olderThanMs: number): Promise<void> {
    await this.rows(
      `DELETE FROM queue_jobs WHERE queue = $1::text AND state = 'completed' AND finished_at < now() - $2::int * interval '1 millisecond'`,
      [queue, olderThanMs],
    );
  }

  async counts(queue: string): Promise<QueueCounts> {
    const rows = await this.rows(
      `SELECT CASE WHEN state = 'waiting' AND run_at > now() THEN 'delayed' ELSE state END AS state, count(*)::int AS n
       FROM queue_jobs WHERE queue = $1::text GROUP BY 1`,
      [queue],
    );
    const counts = emptyCounts();
    for (const r of rows) counts[r.state as JobState] = Number(r.n);
    return counts;
  }

  private static readonly JOB_COLUMNS = `job_id, name, payload, attempts_made, max_attempts, last_error, finished_at, history,
       CASE WHEN state = 'waiting' AND run_at > now() THEN 'delayed' ELSE state END AS state`;

  async get(queue: string, jobId: string): Promise<StoredJob | null> {
    const [row] = await this.rows(`SELECT ${JobStore.JOB_COLUMNS} FROM queue_jobs WHERE queue = $1::text AND job_id = $2::text`, [queue, jobId]);
    return row ? toStored(row) : null;
  }

  async deadLetters(queue: string, offset: number, limit: number): Promise<StoredJob[]> {
    const rows = await this.rows(
      `SELECT ${JobStore.JOB_COLUMNS} FROM queue_jobs WHERE queue = $1::text AND state = 'dead'
       ORDER BY finished_at DESC, seq DESC OFFSET $2::int LIMIT $3::int`,
      [queue, offset, limit],
    );
    return rows.map(toStored);
  }

  async replay(queue: string, jobId: string): Promise<boolean> {
    const rows = await this.rows(
      `UPDATE queue_jobs SET state = 'waiting', attempts_made = 0, run_at = now(), finished_at = NULL, last_error = NULL
       WHERE queue = $1::text AND job_id = $2::text AND state = 'dead'
       RETURNING job_id`,
      [queue, jobId],
    );
    return rows.length === 1;
  }

  async discard(queue: string, jobId: string): Promise<boolean> {
    const rows = await this.rows(`DELETE FROM queue_jobs WHERE queue = $1::text AND job_id = $2::text AND state = 'dead' RETURNING job_id`, [queue, jobId]);
    return rows.length === 1;
  }

  async setPaused(queue: string, paused: boolean): Promise<void> {
    const value = paused ? 'true' : 'false';
    await this.rows(
      `INSERT INTO queue_settings (queue, paused) VALUES ($1::text, ${value}) ON CONFLICT (queue) DO UPDATE SET paused = ${value}`,
      [queue],
    );
  }

  async setRateLimit(queue: string, limit: RateLimit | null): Promise<void> {
    await this.rows(
      `INSERT INTO queue_settings (queue, rate_max, rate_window_ms) VALUES ($1::text, $2::int, $3::int)
       ON CONFLICT (queue) DO UPDATE SET rate_max = $2::int, rate_window_ms = $3::int, window_start = NULL, window_count = 0`,
      [queue, limit?.max ?? null, limit?.durationMs ?? null],
    );
  }

  async settings(queue: string): Promise<{ paused: boolean; rateLimit: RateLimit | null }> {
    const [row] = await this.rows(`SELECT paused, rate_max, rate_window_ms FROM queue_settings WHERE queue = $1::text`, [queue]);
    return {
      paused: row?.paused === true,
      rateLimit: row && row.rate_max != null ? { max: Number(row.rate_max), durationMs: Number(row.rate_window_ms) } : null,
    };
  }

  /**
   * Takes up to `wanted` job starts from the queue's fixed window. The row
   * lock makes the reservation atomic across processes; `null` means the
   * queue has no limit (any more).
   */
  async reserveStarts(queue: string, wanted: number): Promise<RateReservation | null> {
    const [row] = await this.rows(
      `WITH cur AS (
         SELECT queue, rate_max, window_count,
                (window_start IS NULL OR now() >= window_start + rate_window_ms * interval '1 millisecond') AS fresh
         FROM queue_settings WHERE queue = $1::text AND rate_max IS NOT NULL FOR UPDATE),
       g AS (
         SELECT queue, fresh, CASE WHEN fresh THEN 0 ELSE window_count END AS used,
                LEAST($2::int, GREATEST(rate_max - CASE WHEN fresh THEN 0 ELSE window_count END, 0)) AS granted
         FROM cur)
       UPDATE queue_settings s SET
         window_start = CASE WHEN g.fresh THEN now() ELSE s.window_start END,
         window_count = g.used + g.granted
       FROM g WHERE s.queue = g.queue
       RETURNING g.granted::int AS granted, s.window_start::text AS window_start,
         GREATEST(0, EXTRACT(EPOCH FROM (s.window_start + s.rate_window_ms * interval '1 millisecond' - now())) * 1000)::float8 AS left_ms`,
      [queue, wanted],
    );
    return row ? { granted: Number(row.granted), windowStart: String(row.window_start), windowLeftMs: Number(row.left_ms) } : null;
  }

  /** Gives back starts reserved but not used (fewer jobs were due than reserved). */
  async returnStarts(queue: string, windowStart: string, unused: number): Promise<void> {
    await this.rows(
      `UPDATE queue_settings SET window_count = GREATEST(window_count - $3::int, 0) WHERE queue = $1::text AND window_start = $2::timestamptz`,
      [queue, windowStart, unused],
    );
  }

  /** Tells consumers in other processes that the queue's settings changed or a dead letter was replayed. */
  async notifySettingsChanged(queue: string): Promise<void> {
    await this.rows(`SELECT pg_notify('${NOTIFY_CHANNEL}', $1::text)`, [queue + SETTINGS_MARK]);
  }
}

function toClaimed(r: Row, lockToken: string): ClaimedJob {
  return {
    seq: BigInt(String(r.seq)),
    jobId: String(r.job_id),
    name: String(r.name),
    payload: r.payload,
    attempt: Number(r.attempts_made),
    lockToken,
    policy: {
      attempts: Number(r.max_attempts),
      baseDelayMs: Number(r.backoff_base_ms),
      factor: Number(r.backoff_factor),
      maxDelayMs: Number(r.backoff_max_ms),
    },
  };
}

function toStored(r: Row): StoredJob {
  const history = (Array.isArray(r.history) ? r.history : []) as Array<{ attempt: number; error: string; at: string }>;
  return {
    jobId: String(r.job_id),
    name: String(r.name),
    payload: r.payload,
    state: r.state as JobState,
    attemptsMade: Number(r.attempts_made),
    maxAttempts: Number(r.max_attempts),
    lastError: r.last_error == null ? null : String(r.last_error),
    finishedAt: r.finished_at == null ? null : new Date(r.finished_at as string | Date),
    history: history.map((h) => ({ attempt: Number(h.attempt), error: String(h.error), at: new Date(h.at) })),
  };
}
