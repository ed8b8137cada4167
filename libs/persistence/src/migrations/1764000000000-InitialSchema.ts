import { MigrationInterface, QueryRunner } from 'typeorm';

/** Plain SQL that runs unchanged on PostgreSQL and PGlite (uuids from pgcrypto's gen_random_uuid). */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);
    await q.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        label text,
        status text NOT NULL DEFAULT 'created',
        desired_state text NOT NULL DEFAULT 'running',
        status_reason text,
        phone_number text,
        webhook_url text,
        config jsonb NOT NULL DEFAULT '{}',
        meta jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_seen timestamptz,
        deleted_at timestamptz
      )`);
    await q.query(`CREATE INDEX sessions_created_idx ON sessions (created_at, id) WHERE deleted_at IS NULL`);
    await q.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        session_id uuid NOT NULL REFERENCES sessions(id),
        message_id text NOT NULL,
        direction text NOT NULL,
        "to" text NOT NULL,
        "from" text,
        type text NOT NULL,
        payload jsonb NOT NULL,
        payload_hash text,
        status text NOT NULL,
        status_times jsonb NOT NULL DEFAULT '{}',
        wa_message_id text,
        attempts int NOT NULL DEFAULT 0,
        error jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz,
        CONSTRAINT messages_session_message_id_key UNIQUE (session_id, message_id)
      )`);
    await q.query(`CREATE INDEX messages_session_created_idx ON messages (session_id, created_at, id)`);
    await q.query(`CREATE INDEX messages_wa_id_idx ON messages (session_id, wa_message_id)`);
    await q.query(`CREATE INDEX messages_status_idx ON messages (status, updated_at)`);
    await q.query(`
      CREATE TABLE events (
        id bigserial PRIMARY KEY,
        timestamp timestamptz NOT NULL DEFAULT now(),
        session_id uuid,
        type text NOT NULL,
        detail jsonb NOT NULL DEFAULT '{}'
      )`);
    await q.query(`CREATE INDEX events_session_idx ON events (session_id, id)`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        key_prefix text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'connection')),
        session_id uuid REFERENCES sessions(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        CHECK ((role = 'connection') = (session_id IS NOT NULL))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE events`);
    await q.query(`DROP TABLE messages`);
    await q.query(`DROP TABLE sessions`);
  }
}
