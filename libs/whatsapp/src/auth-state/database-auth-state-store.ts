import { randomBytes } from 'node:crypto';
import { initAuthCreds, type AuthenticationCreds, type SignalDataSet, type SignalDataTypeMap, type SignalKeyStore } from '@whiskeysockets/baileys';
import type { DataSource } from 'typeorm';
import { GroupCommit, inRounds, ItemFailure } from '../../../persistence/src/group-commit';
import { queryRows } from '../../../persistence/src/query-rows';
import { LeaseLostError, type Lease, type SessionLeases } from '../../../sessions/src/ownership/session-leases';
import { AuthStateWipedError, CredentialsKeyError } from './auth-state.errors';
import { decodeCreds, decodeKey, encodeJson } from './auth-state-codec';
import { AuthStateStore, type OpenAuthState } from './auth-state-store';
import type { CredentialsKeyring } from './credentials-keyring';
import { KeyCache } from './key-cache';
import { open, seal } from './sealed-box';

export interface DatabaseAuthStateStoreOptions {
  /** Signal keys kept decrypted in memory per open session (least recently used are dropped). */
  cacheSize?: number;
}

type KeyType = keyof SignalDataTypeMap;

interface CredentialsRow {
  key_id: string;
  wrapped_key: Buffer | Uint8Array;
  creds: Buffer | Uint8Array;
}

// Statements stay well under PostgreSQL's 65535 parameters.
const CHUNK = 500;
/** A write of more rows goes alone; shared statements then hold at most SHARED_UPSERT_MAX_ROWS x SHARED_UPSERT_BATCH rows (6 parameters each). */
const SHARED_UPSERT_MAX_ROWS = 50;
const SHARED_UPSERT_BATCH = 100;

interface FencedUpsert {
  session: OpenSession;
  rows: Array<{ type: string; id: string; sealed: Buffer }>;
}

function throwIfFailed(result: void | ItemFailure): void {
  if (result instanceof ItemFailure) throw result.error;
}

const credsAad = (sessionId: string) => `wa-gateway/creds\0${sessionId}`;
const keyAad = (sessionId: string, type: string, id: string) => `wa-gateway/key\0${sessionId}\0${type}\0${id}`;
const cacheKey = (type: string, id: string) => `${type}\0${id}`;
const asBuffer = (value: Buffer | Uint8Array) => (Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength));

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

const isForeignKeyViolation = (error: unknown) => (error as { code?: string })?.code === '23503';

/** One `open()`: the session's data key, its cache, and its writes in call order. */
class OpenSession {
  readonly cache: KeyCache;
  wiped = false;
  /** Bumped by every committed write; a read started before a write never fills the cache with what it saw. */
  generation = 0;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    readonly sessionId: string,
    readonly lease: Lease,
    readonly dataKey: Buffer,
    cacheSize: number,
  ) {
    this.cache = new KeyCache(cacheSize);
  }

  /** Writes commit in the order they were called, so an older snapshot never lands after a newer one. */
  serialize<T>(write: () => Promise<T>): Promise<T> {
    const next = this.writes.then(write, write);
    this.writes = next.catch(() => undefined);
    return next;
  }
}

/**
 * Credentials and Signal keys in the database, sealed with AES-256-GCM under
 * a per-session data key that the master key wraps. Writes are single
 * transactions fenced by the session lease; hot keys are served from memory.
 */
export class DatabaseAuthStateStore extends AuthStateStore {
  /** The latest open() per session, so a wipe in this process stops it at once (other processes learn it from the database). */
  private readonly sessions = new Map<string, OpenSession>();
  private readonly cacheSize: number;
  private readonly upserts = new GroupCommit<FencedUpsert, void>((batch) => this.writeUpserts(batch), { maxBatch: SHARED_UPSERT_BATCH, maxInFlight: 2 });

  constructor(
    private readonly dataSource: DataSource,
    private readonly keyring: CredentialsKeyring,
    private readonly leases: SessionLeases,
    options: DatabaseAuthStateStoreOptions = {},
  ) {
    super();
    this.cacheSize = options.cacheSize ?? 2000;
  }

  async open(sessionId: string, lease: Lease): Promise<OpenAuthState> {
    const { dataKey, creds } = await this.loadOrCreate(sessionId, lease);
    const session = new OpenSession(sessionId, lease, dataKey, this.cacheSize);
    // A new open replaces an older one of this process (its socket is gone): its cache is released with it.
    this.sessions.get(sessionId)?.cache.clear();
    this.sessions.set(sessionId, session);
    const state = { creds, keys: this.keyStore(session) };
    return {
      state,
      saveCreds: () => session.serialize(() => this.saveCreds(session, state.creds)),
      hasCredentials: Boolean(creds.me),
      close: () => {
        session.cache.clear();
        if (this.sessions.get(sessionId) === session) this.sessions.delete(sessionId);
      },
    };
  }

  async wipe(sessionId: string): Promise<void> {
    const session = this.sessions.get(sessionId);
    if (session) {
      session.wiped = true;
      session.cache.clear();
    }
    this.sessions.delete(sessionId);
    // The keys go with the credentials row (ON DELETE CASCADE).
    await this.dataSource.query(`DELETE FROM session_credentials WHERE session_id = $1`, [sessionId]);
  }

  async hasCredentials(sessionId: string): Promise<boolean> {
    const rows = await queryRows<{ registered: boolean }>(this.dataSource, `SELECT registered FROM session_credentials WHERE session_id = $1`, [sessionId]);
    return rows[0]?.registered === true;
  }

  private async loadOrCreate(sessionId: string, lease: Lease): Promise<{ dataKey: Buffer; creds: AuthenticationCreds }> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const [row] = await queryRows<CredentialsRow>(this.dataSource, `SELECT key_id, wrapped_key, creds FROM session_credentials WHERE session_id = $1`, [sessionId]);
      if (row) {
        const dataKey = this.keyring.unwrap(sessionId, row.key_id, asBuffer(row.wrapped_key));
        return { dataKey, creds: decodeCreds(this.openValue(dataKey, asBuffer(row.creds), credsAad(sessionId)).toString('utf8')) };
      }
      const dataKey = randomBytes(32);
      const creds = initAuthCreds();
      const { keyId, wrapped } = this.keyring.wrap(sessionId, dataKey);
      const sealed = seal(dataKey, Buffer.from(encodeJson(creds), 'utf8'), credsAad(sessionId));
      const created = await this.dataSource.transaction(async (manager) => {
        await this.leases.assertCurrent(manager, lease);
        const inserted = await queryRows(
          manager,
          `INSERT INTO session_credentials (session_id, key_id, wrapped_key, creds, registered) VALUES ($1, $2, $3, $4, false)
           ON CONFLICT (session_id) DO NOTHING RETURNING session_id`,
          [sessionId, keyId, wrapped, sealed],
        );
        return inserted.length > 0;
      });
      if (created) return { dataKey, creds };
      // Someone created them between our read and our insert: read theirs.
    }
    throw new Error(`The credentials of session ${sessionId} could neither be read nor created`);
  }

  private async saveCreds(session: OpenSession, creds: AuthenticationCreds): Promise<void> {
    if (session.wiped) throw new AuthStateWipedError(session.sessionId);
    const sealed = seal(session.dataKey, Buffer.from(encodeJson(creds), 'utf8'), credsAad(session.sessionId));
    await this.dataSource.transaction(async (manager) => {
      await this.leases.assertCurrent(manager, session.lease);
      // Only the sealed creds change: the wrapped data key belongs to the key rotation.
      const updated = await queryRows(manager, `UPDATE session_credentials SET creds = $2, registered = $3, updated_at = now() WHERE session_id = $1 RETURNING session_id`, [
        session.sessionId,
        sealed,
        Boolean(creds.me),
      ]);
      if (updated.length === 0) throw new AuthStateWipedError(session.sessionId);
    });
  }

  private keyStore(session: OpenSession): SignalKeyStore {
    return {
      get: <T extends KeyType>(type: T, ids: string[]) => this.getKeys(session, type, ids),
      set: (data: SignalDataSet) => session.serialize(() => this.setKeys(session, data)),
    };
  }

  private async getKeys<T extends KeyType>(session: OpenSession, type: T, ids: string[]): Promise<{ [id: string]: SignalDataTypeMap[T] }> {
    if (session.wiped) return {};
    const found: { [id: string]: SignalDataTypeMap[T] } = {};
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const cached = session.cache.get(cacheKey(type, id));
      if (cached === undefined) missing.push(id);
      else if (cached !== null) found[id] = decodeKey(type, cached);
    }
    if (missing.length === 0) return found;

    const generation = session.generation;
    const loaded = new Map<string, string>();
    for (const batch of chunks(missing)) {
      const placeholders = batch.map((_, i) => `$${i + 3}`).join(', ');
      const rows = await queryRows<{ key_id: string; value: Buffer | Uint8Array }>(
        this.dataSource,
        `SELECT key_id, value FROM session_keys WHERE session_id = $1 AND type = $2 AND key_id IN (${placeholders})`,
        [session.sessionId, type, ...batch],
      );
      for (const row of rows) loaded.set(row.key_id, this.openValue(session.dataKey, asBuffer(row.value), keyAad(session.sessionId, type, row.key_id)).toString('utf8'));
    }
    const fillCache = generation === session.generation && !session.wiped;
    for (const id of missing) {
      const json = loaded.get(id);
      if (fillCache) session.cache.set(cacheKey(type, id), json ?? null);
      if (json !== undefined) found[id] = decodeKey(type, json);
    }
    return found;
  }

  /** All entries of one call in one transaction: upserts, and deletes for null values. */
  private async setKeys(session: OpenSession, data: SignalDataSet): Promise<void> {
    if (session.wiped) throw new AuthStateWipedError(session.sessionId);
    const { sessionId, dataKey } = session;
    const writes: Array<{ type: string; upserts: Array<{ id: string; json: string; sealed: Buffer }>; deletes: string[] }> = [];
    for (const [type, entries] of Object.entries(data)) {
      const upserts: Array<{ id: string; json: string; sealed: Buffer }> = [];
      const deletes: string[] = [];
      for (const [id, value] of Object.entries(entries ?? {})) {
        if (value === null || value === undefined) {
          deletes.push(id);
        } else {
          const json = encodeJson(value);
          upserts.push({ id, json, sealed: seal(dataKey, Buffer.from(json, 'utf8'), keyAad(sessionId, type, id)) });
        }
      }
      if (upserts.length || deletes.length) writes.push({ type, upserts, deletes });
    }
    if (writes.length === 0) return;

    try {
      const upsertsOnly = writes.every((w) => w.deletes.length === 0) && writes.reduce((n, w) => n + w.upserts.length, 0) <= CHUNK;
      if (upsertsOnly) await this.upsertKeysFenced(session, writes);
      else await this.dataSource.transaction(async (manager) => {
        await this.leases.assertCurrent(manager, session.lease);
        for (const { type, upserts, deletes } of writes) {
          for (const batch of chunks(upserts)) {
            const values = batch.map((_, i) => `($1, $2, $${3 + i * 2}, $${4 + i * 2}, now())`).join(', ');
            await manager.query(
              `INSERT INTO session_keys (session_id, type, key_id, value, updated_at) VALUES ${values}
               ON CONFLICT (session_id, type, key_id) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`,
              [sessionId, type, ...batch.flatMap((u) => [u.id, u.sealed])],
            );
          }
          for (const batch of chunks(deletes)) {
            const placeholders = batch.map((_, i) => `$${i + 3}`).join(', ');
            await manager.query(`DELETE FROM session_keys WHERE session_id = $1 AND type = $2 AND key_id IN (${placeholders})`, [sessionId, type, ...batch]);
          }
        }
      });
    } catch (error) {
      // The keys hang off the credentials row: it is gone, so the session was wiped.
      if (isForeignKeyViolation(error)) throw new AuthStateWipedError(sessionId);
      throw error;
    }
    // Write-through only after the commit: the cache never shows what the database does not hold.
    session.generation++;
    for (const { type, upserts, deletes } of writes) {
      for (const u of upserts) session.cache.set(cacheKey(type, u.id), u.json);
      for (const id of deletes) session.cache.set(cacheKey(type, id), null);
    }
  }

  /**
   * The common write (a send's Signal session records): upserts only, as one
   * statement that writes nothing unless the lease is current, shared by the
   * sessions writing at the same time (each row names its session's lease).
   * Every row comes back (inserted or updated), so a session with fewer rows
   * back has lost its lease. A batch the database refuses as a whole (a
   * session wiped meanwhile) is retried session by session, so one session's
   * failure is never another's.
   */
  private upsertKeysFenced(session: OpenSession, writes: Array<{ type: string; upserts: Array<{ id: string; sealed: Buffer }> }>): Promise<void> {
    const rows = writes.flatMap(({ type, upserts }) => upserts.map((u) => ({ type, id: u.id, sealed: u.sealed })));
    const write = { session, rows };
    return rows.length > SHARED_UPSERT_MAX_ROWS ? this.writeUpserts([write]).then(([result]) => throwIfFailed(result)) : this.upserts.add(write);
  }

  private writeUpserts(batch: FencedUpsert[]): Promise<Array<void | ItemFailure>> {
    // Rows come back by session id: two writers of one session (an old open() and a new one) go in separate statements.
    return inRounds(batch, (write) => write.session.sessionId, (round) => this.writeUpsertRound(round));
  }

  private async writeUpsertRound(batch: FencedUpsert[]): Promise<Array<void | ItemFailure>> {
    const rows = batch.flatMap(({ session, rows }) => rows.map((row) => [session.sessionId, row.type, row.id, row.sealed, session.lease.owner, session.lease.epoch] as const));
    const values = rows.map((_, i) => `($${i * 6 + 1}::uuid, $${i * 6 + 2}::text, $${i * 6 + 3}::text, $${i * 6 + 4}::bytea, $${i * 6 + 5}::text, $${i * 6 + 6}::bigint)`).join(', ');
    let written: Array<{ session_id: string }>;
    try {
      written = await queryRows(
        this.dataSource,
        `INSERT INTO session_keys (session_id, type, key_id, value, updated_at)
         SELECT v.k_session, v.k_type, v.k_id, v.k_value, now() FROM (VALUES ${values}) AS v(k_session, k_type, k_id, k_value, k_owner, k_epoch)
         WHERE ${this.leases.currentCondition({ sessionId: 'v.k_session', owner: 'v.k_owner', epoch: 'v.k_epoch' })}
         ON CONFLICT (session_id, type, key_id) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
         RETURNING session_id`,
        rows.flat(),
      );
    } catch (error) {
      if (batch.length === 1) return [new ItemFailure(error)];
      return Promise.all(batch.map((write) => this.writeUpsertRound([write]).then(([result]) => result)));
    }
    const back = new Map<string, number>();
    for (const row of written) back.set(row.session_id, (back.get(row.session_id) ?? 0) + 1);
    return batch.map(({ session, rows }) => ((back.get(session.sessionId) ?? 0) < rows.length ? new ItemFailure(new LeaseLostError(session.lease)) : undefined));
  }

  private openValue(dataKey: Buffer, box: Buffer, aad: string): Buffer {
    try {
      return open(dataKey, box, aad);
    } catch {
      throw new CredentialsKeyError('A stored credential cannot be decrypted: it is corrupt, was altered, or was moved from another row');
    }
  }
}
