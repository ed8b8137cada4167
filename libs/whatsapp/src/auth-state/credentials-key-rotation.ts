import type { DataSource } from 'typeorm';
import { CredentialsKeyError } from './auth-state.errors';
import type { CredentialsKeyring } from './credentials-keyring';

export interface RotationResult {
  /** Sessions with credentials. */
  total: number;
  rewrapped: number;
  alreadyCurrent: number;
  /** Sessions whose data key no configured master key opens (left as they are). */
  unreadable: string[];
}

const asBuffer = (value: Buffer | Uint8Array) => (Buffer.isBuffer(value) ? value : Buffer.from(value));

/**
 * Re-wraps every session's data key under the current master key, one row
 * per transaction. Only the wrapped data key changes; the sealed creds and
 * keys stay as they are, so running sockets (which hold the data key in
 * memory) keep reading and writing throughout.
 */
export async function rotateCredentialsKey(
  dataSource: DataSource,
  keyring: CredentialsKeyring,
  { batchSize = 100, onProgress }: { batchSize?: number; onProgress?: (done: number) => void } = {},
): Promise<RotationResult> {
  const unreadable: string[] = [];
  let rewrapped = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const batch: Array<{ session_id: string }> = await dataSource.query(
      `SELECT session_id FROM session_credentials WHERE key_id <> $1 AND session_id > $2 ORDER BY session_id LIMIT $3`,
      [keyring.currentKeyId, after, batchSize],
    );
    if (batch.length === 0) break;
    for (const { session_id: sessionId } of batch) {
      try {
        const changed = await dataSource.transaction(async (manager) => {
          const [row]: Array<{ key_id: string; wrapped_key: Buffer | Uint8Array }> = await manager.query(
            `SELECT key_id, wrapped_key FROM session_credentials WHERE session_id = $1 FOR UPDATE`,
            [sessionId],
          );
          // Wiped or already re-wrapped since the batch was listed.
          if (!row || row.key_id === keyring.currentKeyId) return false;
          const { keyId, wrapped } = keyring.wrap(sessionId, keyring.unwrap(sessionId, row.key_id, asBuffer(row.wrapped_key)));
          await manager.query(`UPDATE session_credentials SET key_id = $2, wrapped_key = $3 WHERE session_id = $1`, [sessionId, keyId, wrapped]);
          return true;
        });
        if (changed) rewrapped++;
      } catch (error) {
        if (!(error instanceof CredentialsKeyError)) throw error;
        unreadable.push(sessionId);
      }
    }
    after = batch[batch.length - 1].session_id;
    onProgress?.(rewrapped);
  }
  const [{ total, current }]: Array<{ total: string | number; current: string | number }> = await dataSource.query(
    `SELECT count(*) AS total, count(*) FILTER (WHERE key_id = $1) AS current FROM session_credentials`,
    [keyring.currentKeyId],
  );
  return { total: Number(total), rewrapped, alreadyCurrent: Number(current) - rewrapped, unreadable };
}
