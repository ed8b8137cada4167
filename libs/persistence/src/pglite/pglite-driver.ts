import { EventEmitter } from 'node:events';
import type { PGlite } from '@electric-sql/pglite';

type QueryCallback = (error: Error | null, result?: unknown) => void;
type Release = (error?: unknown) => void;

/** Serialises access to the one PGlite session: one holder at a time, FIFO. */
class SessionMutex {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<Release> {
    let release!: Release;
    const held = new Promise<void>((resolve) => (release = () => resolve()));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => held);
    return ready;
  }
}

/** Shapes a PGlite result like node-postgres', which TypeORM's postgres query runner reads. */
function asPgResult(sql: string, result: { rows: unknown[]; affectedRows?: number; fields?: unknown[] }) {
  const command = sql.trimStart().split(/\s+/, 1)[0]?.toUpperCase() ?? '';
  return { rows: result.rows, fields: result.fields ?? [], command, rowCount: result.affectedRows ?? result.rows.length };
}

class PGliteConnection extends EventEmitter {
  constructor(private readonly db: PGlite) {
    super();
  }

  query(sql: string, params?: unknown[] | QueryCallback, callback?: QueryCallback): Promise<unknown> {
    const cb = typeof params === 'function' ? params : callback;
    const values = Array.isArray(params) ? params : undefined;
    const run = values && values.length > 0
      ? this.db.query(sql, values).then((r) => asPgResult(sql, r))
      : this.db.exec(sql).then((results) => asPgResult(sql, results[results.length - 1] ?? { rows: [] }));
    return run.then(
      (result) => {
        cb?.(null, result);
        return result;
      },
      (error: Error) => {
        if (cb) cb(error);
        throw error;
      },
    );
  }
}

/**
 * A node-postgres-shaped driver for TypeORM over one PGlite instance.
 *
 * PGlite has a single session. A pool that hands that session to several
 * TypeORM query runners at once lets their transactions interleave: one
 * runner's ROLLBACK undoes another's writes, and `FOR UPDATE` locks nothing
 * against a "concurrent" claimer. So each query runner holds the session
 * exclusively from connect() to release(), which is what a real pool with
 * one connection guarantees. Code inside a transaction must use the
 * transaction's manager, never the DataSource (it would wait for itself).
 */
export function pgliteDriver(db: PGlite, { closeOnEnd = true } = {}) {
  const mutex = new SessionMutex();
  const connection = new PGliteConnection(db);

  class Pool extends EventEmitter {
    connect(callback: (error: Error | null, client?: PGliteConnection, release?: Release) => void): void {
      mutex.acquire().then((release) => callback(null, connection, release), (error: Error) => callback(error));
    }

    query(sql: string, params?: unknown[] | QueryCallback, callback?: QueryCallback): Promise<unknown> {
      return mutex.acquire().then(async (release) => {
        try {
          return await connection.query(sql, params, callback);
        } finally {
          release();
        }
      });
    }

    end(callback?: (error: Error | null) => void): void {
      const closing = closeOnEnd ? db.close() : Promise.resolve();
      closing.then(() => callback?.(null), (error: Error) => callback?.(error));
    }
  }

  return { Pool };
}
