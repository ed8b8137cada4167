import { MigrationInterface, QueryRunner } from 'typeorm';

/** Plain SQL that runs unchanged on PostgreSQL and PGlite. */
export class CreateWebhooks1765000000000 implements MigrationInterface {
  name = 'CreateWebhooks1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_subscriptions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind text NOT NULL CHECK (kind IN ('global', 'connection')),
        url text NOT NULL,
        events text[] NOT NULL DEFAULT '{}',
        session_id uuid REFERENCES sessions(id) ON DELETE CASCADE,
        secret_sealed text NOT NULL,
        previous_secret_sealed text,
        previous_secret_expires_at timestamptz,
        state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'disabled')),
        disabled_reason text,
        disabled_at timestamptz,
        failing_since timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (kind = 'global' OR session_id IS NOT NULL)
      )`);
    await q.query(`CREATE UNIQUE INDEX webhook_subscriptions_connection_key ON webhook_subscriptions (session_id) WHERE kind = 'connection'`);
    await q.query(`CREATE INDEX webhook_subscriptions_created_idx ON webhook_subscriptions (created_at, id)`);
    await q.query(`
      CREATE TABLE webhook_events (
        id text PRIMARY KEY,
        type text NOT NULL,
        session_id text NOT NULL,
        timestamp timestamptz NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        event_id text NOT NULL REFERENCES webhook_events(id),
        subscription_id uuid NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'succeeded', 'failed', 'disabled')),
        attempts int NOT NULL DEFAULT 0,
        replays int NOT NULL DEFAULT 0,
        run_start_attempt int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        last_attempt_at timestamptz,
        last_status_code int,
        response_excerpt text,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        CONSTRAINT webhook_deliveries_event_subscription_key UNIQUE (event_id, subscription_id)
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (subscription_id, created_at, id)`);
    await q.query(`CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhook_events`);
    await q.query(`DROP TABLE webhook_subscriptions`);
  }
}
