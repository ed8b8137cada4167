import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the send pipeline adds to `messages` (plain SQL for PostgreSQL and PGlite):
 * - `chat`: the conversation JID (the recipient, or the chat of an incoming message), filterable;
 * - `scheduled_at`: when a scheduled send is due;
 * - `dead_lettered_at`: set while a failed message is in the dead-letter queue
 *   (cleared by a replay or a discard, which keeps the row `failed` for audit);
 * - `replays`: how many times it came back from the dead-letter queue (event ids stay unique per round);
 * - `job_id`: the queue job of the current round (the row id; a replay whose job is gone gets `<id>-r<n>`),
 *   so the reconciler and replays find it.
 */
export class MessagingColumns1765000000200 implements MigrationInterface {
  name = 'MessagingColumns1765000000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages ADD COLUMN chat text`);
    await q.query(`ALTER TABLE messages ADD COLUMN scheduled_at timestamptz`);
    await q.query(`ALTER TABLE messages ADD COLUMN dead_lettered_at timestamptz`);
    await q.query(`ALTER TABLE messages ADD COLUMN replays int NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE messages ADD COLUMN job_id text`);
    await q.query(`CREATE INDEX messages_session_chat_idx ON messages (session_id, chat, created_at, id)`);
    await q.query(`CREATE INDEX messages_dead_letters_idx ON messages (dead_lettered_at, id) WHERE dead_lettered_at IS NOT NULL`);
    await q.query(`CREATE INDEX messages_unfinished_idx ON messages (updated_at) WHERE direction = 'out' AND status IN ('queued', 'retrying', 'sending')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX messages_unfinished_idx`);
    await q.query(`DROP INDEX messages_dead_letters_idx`);
    await q.query(`DROP INDEX messages_session_chat_idx`);
    await q.query(`ALTER TABLE messages DROP COLUMN job_id, DROP COLUMN replays, DROP COLUMN dead_lettered_at, DROP COLUMN scheduled_at, DROP COLUMN chat`);
  }
}
