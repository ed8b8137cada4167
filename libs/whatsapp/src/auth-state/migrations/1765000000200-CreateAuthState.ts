import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Encrypted WhatsApp credentials. `session_credentials` holds the session's
 * data key (wrapped by the master key named by `key_id`) and the sealed
 * Baileys creds; `session_keys` holds the sealed Signal keys. Keys hang off
 * the credentials row, so wiping the credentials removes them in the same
 * statement, and a late key write after a wipe fails instead of leaving
 * orphans under a data key that no longer exists.
 */
export class CreateAuthState1765000000200 implements MigrationInterface {
  name = 'CreateAuthState1765000000200';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE session_credentials (
        session_id uuid PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        key_id text NOT NULL,
        wrapped_key bytea NOT NULL,
        creds bytea NOT NULL,
        registered boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`CREATE INDEX session_credentials_key_id_idx ON session_credentials (key_id)`);
    await runner.query(`
      CREATE TABLE session_keys (
        session_id uuid NOT NULL REFERENCES session_credentials(session_id) ON DELETE CASCADE,
        type text NOT NULL,
        key_id text NOT NULL,
        value bytea NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (session_id, type, key_id)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE IF EXISTS session_keys`);
    await runner.query(`DROP TABLE IF EXISTS session_credentials`);
  }
}
