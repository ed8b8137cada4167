import { DatabaseError, Pool } from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';
import { queryRows } from './query-rows';

const textByName = new Map<string, string>();

/**
 * A statement on a hot path that PostgreSQL parses and plans once per
 * connection instead of on every call. Its text must not vary with its
 * input (arrays and JSON as parameters, never a list built per call).
 *
 * TypeORM sends every query unnamed, so PostgreSQL plans it each time: for
 * the accepting INSERT that was 0.3-0.5 ms of a 1-1.3 ms round trip on an
 * idle machine, paid once per batch while the next batch waits. With
 * node-postgres the statement is run on the DataSource's pool by name (the
 * driver prepares it on each connection the first time); PGlite has one
 * in-process session and no round trip to save, so there it is a plain query.
 * Errors are TypeORM's QueryFailedError either way.
 */
export class PreparedStatement {
  constructor(
    readonly name: string,
    readonly text: string,
  ) {
    // A name is prepared once per connection: a second text under it would run the first one.
    const known = textByName.get(name);
    if (known !== undefined && known !== text) throw new Error(`prepared statement ${name} is defined twice with different text`);
    textByName.set(name, text);
  }

  /** Runs the statement and resolves to the rows it returns. */
  async rows<Row = Record<string, unknown>>(dataSource: DataSource, values: unknown[]): Promise<Row[]> {
    const pool = (dataSource.driver as { master?: unknown }).master;
    if (!(pool instanceof Pool)) return queryRows<Row>(dataSource, this.text, values);
    // Checked out rather than pool.query(), which closes the connection after any failed statement (a unique
    // violation too) and with it every statement prepared there. While held, the connection's 'error' is ours to
    // hear (the pool listens only while it is idle; unheard, it ends the process): the statement's rejection
    // reports the failure, and a broken connection goes back as such, so the pool drops it.
    const client = await pool.connect();
    let broken: Error | undefined;
    const onError = (error: Error) => (broken = error);
    client.on('error', onError);
    try {
      return (await client.query({ name: this.name, text: this.text, values })).rows as Row[];
    } catch (error) {
      // Only a statement's own failure (severity ERROR: a constraint, a cast) leaves the connection usable; a
      // FATAL from the server or a lost socket may be reported before the connection says it is closing.
      if (!(error instanceof DatabaseError && error.severity === 'ERROR')) broken ??= error as Error;
      throw new QueryFailedError(this.text, values, error as Error);
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }
}

