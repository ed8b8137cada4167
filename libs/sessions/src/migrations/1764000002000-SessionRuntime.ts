import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The live side of a session: its current QR (served by any api process) and
 * the commands the api hands to whichever worker owns the session (logout,
 * restart, pairing code), answered through the same row.
 */
export class SessionRuntime1764000002000 implements MigrationInterface {
  name = 'SessionRuntime1764000002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sessions ADD COLUMN qr text, ADD COLUMN qr_expires_at timestamptz`);
    await q.query(`
      CREATE TABLE session_commands (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        type text NOT NULL,
        payload jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        claimed_by text,
        claimed_at timestamptz,
        completed_at timestamptz,
        result jsonb,
        error text
      )`);
    await q.query(`CREATE INDEX session_commands_pending_idx ON session_commands (session_id, created_at) WHERE completed_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE session_commands`);
    await q.query(`ALTER TABLE sessions DROP COLUMN qr, DROP COLUMN qr_expires_at`);
  }
}
