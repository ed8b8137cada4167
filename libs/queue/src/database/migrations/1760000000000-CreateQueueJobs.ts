import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The database queue driver's storage. Plain SQL that runs unchanged on
 * PostgreSQL and PGlite.
 *
 * - `seq` orders jobs (FIFO within one priority); `(queue, job_id)` is the
 *   idempotency key.
 * - A waiting job with `run_at` in the future is "delayed" (first delay or a
 *   retry backoff); an active job whose `locked_until` has passed lost its
 *   consumer and is put back by the next consumer of the queue.
 * - `queue_settings` holds what is shared by all consumers of a queue: pause
 *   and the rate limit window. Queues without settings have no row.
 * - A statement trigger NOTIFYs `queue_jobs` with the queue name when jobs are
 *   inserted, so consumers in other processes wake without polling.
 */
export class CreateQueueJobs1760000000000 implements MigrationInterface {
  name = 'CreateQueueJobs1760000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE queue_jobs (
        seq bigserial PRIMARY KEY,
        queue text NOT NULL,
        job_id text NOT NULL,
        name text NOT NULL,
        payload jsonb NOT NULL,
        state text NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'active', 'completed', 'dead')),
        priority integer NOT NULL DEFAULT 0,
        run_at timestamptz NOT NULL DEFAULT now(),
        attempts_made integer NOT NULL DEFAULT 0,
        max_attempts integer NOT NULL,
        backoff_base_ms integer NOT NULL,
        backoff_factor double precision NOT NULL,
        backoff_max_ms integer NOT NULL,
        lock_token text,
        locked_until timestamptz,
        last_error text,
        history jsonb NOT NULL DEFAULT '[]'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        CONSTRAINT queue_jobs_queue_job_id_key UNIQUE (queue, job_id)
      )`);
    await runner.query(`CREATE INDEX queue_jobs_waiting_idx ON queue_jobs (queue, priority, seq) WHERE state = 'waiting'`);
    await runner.query(`CREATE INDEX queue_jobs_active_idx ON queue_jobs (queue, locked_until) WHERE state = 'active'`);
    await runner.query(`CREATE INDEX queue_jobs_finished_idx ON queue_jobs (queue, state, finished_at) WHERE state IN ('completed', 'dead')`);
    await runner.query(`
      CREATE TABLE queue_settings (
        queue text PRIMARY KEY,
        paused boolean NOT NULL DEFAULT false,
        rate_max integer,
        rate_window_ms integer,
        window_start timestamptz,
        window_count integer NOT NULL DEFAULT 0
      )`);
    await runner.query(`
      CREATE FUNCTION queue_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('queue_jobs', q.queue) FROM (SELECT DISTINCT queue FROM inserted_jobs) q;
        RETURN NULL;
      END
      $$`);
    await runner.query(`
      CREATE TRIGGER queue_jobs_notify AFTER INSERT ON queue_jobs
      REFERENCING NEW TABLE AS inserted_jobs
      FOR EACH STATEMENT EXECUTE FUNCTION queue_jobs_notify()`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TRIGGER IF EXISTS queue_jobs_notify ON queue_jobs`);
    await runner.query(`DROP FUNCTION IF EXISTS queue_jobs_notify()`);
    await runner.query(`DROP TABLE IF EXISTS queue_settings`);
    await runner.query(`DROP TABLE IF EXISTS queue_jobs`);
  }
}
