import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per session that was ever owned. A released or expired lease keeps
 * its row and its epoch, so epochs only grow and a fencing token is never
 * handed out twice.
 */
export class CreateSessionLeases1765000000100 implements MigrationInterface {
  name = 'CreateSessionLeases1765000000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE session_leases (
        session_id uuid PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        owner text NOT NULL,
        epoch bigint NOT NULL,
        expires_at timestamptz NOT NULL,
        acquired_at timestamptz NOT NULL DEFAULT now(),
        renewed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`CREATE INDEX session_leases_expires_idx ON session_leases (expires_at)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE IF EXISTS session_leases`);
  }
}
