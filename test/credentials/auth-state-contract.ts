import { randomBytes } from 'node:crypto';
import { Curve, proto, type AuthenticationCreds, type SignalDataSet } from '@whiskeysockets/baileys';
import type { DataSource } from 'typeorm';
import { DatabaseSessionLeases, LeaseLostError, type Lease } from '../../libs/sessions/src/ownership';
import {
  AuthStateWipedError,
  CredentialsKeyError,
  CredentialsKeyring,
  DatabaseAuthStateStore,
  rotateCredentialsKey,
  type OpenAuthState,
} from '../../libs/whatsapp/src/auth-state';

export interface CredentialsDatabase {
  dataSource: DataSource;
  destroy(): Promise<void>;
}

const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);
const KEY_C = randomBytes(32);

/** One Signal key of every type Baileys stores, with realistic shapes. */
export function sampleKeys() {
  const preKey = Curve.generateKeyPair();
  const appStateKey = proto.Message.AppStateSyncKeyData.fromObject({
    keyData: randomBytes(32),
    fingerprint: { rawId: 7, currentIndex: 2, deviceIndexes: [0, 1] },
    timestamp: 1_700_000_000,
  });
  const data = {
    'pre-key': { '1': preKey },
    session: { '5511900000001.0': randomBytes(120) },
    'sender-key': { 'group@g.us::5511900000001::0': randomBytes(64) },
    'sender-key-memory': { 'group@g.us': { '5511900000001@s.whatsapp.net': true } },
    'app-state-sync-key': { AAAAAGFx: appStateKey },
    'app-state-sync-version': { regular: { version: 3, hash: randomBytes(128), indexValueMap: { 'aW5kZXg=': { valueMac: randomBytes(32) } } } },
    'lid-mapping': { '5511900000001': '123456789', '123456789_reverse': '5511900000001' },
    'device-list': { '5511900000001': ['0', '3'] },
    tctoken: { '5511900000001@s.whatsapp.net': { token: randomBytes(24), timestamp: '1700000000' } },
    'identity-key': { '5511900000001.0': randomBytes(33) },
  } satisfies SignalDataSet;
  return { data, preKey, appStateKey };
}

/** The encrypted store's guarantees, run against PGlite and PostgreSQL. */
export function authStateContract(name: string, openDatabase: () => Promise<CredentialsDatabase>): void {
  describe(`encrypted auth state: ${name}`, () => {
    let db: CredentialsDatabase;
    let ds: DataSource;
    let leases: DatabaseSessionLeases;
    const keyringA = new CredentialsKeyring(KEY_A);
    const storeA = () => new DatabaseAuthStateStore(ds, keyringA, leases);

    const newSession = async (): Promise<{ id: string; lease: Lease }> => {
      const [{ id }] = await ds.query(`INSERT INTO sessions (label) VALUES ('credentials test') RETURNING id`);
      return { id, lease: (await leases.acquire(id, 'worker-a'))! };
    };
    const takeOver = async (id: string): Promise<Lease> => {
      await ds.query(`UPDATE session_leases SET expires_at = now() - interval '1 second' WHERE session_id = $1`, [id]);
      return (await leases.acquire(id, 'worker-b'))!;
    };
    const link = (auth: OpenAuthState, phone = '5511900000001') => {
      auth.state.creds.me = { id: `${phone}:3@s.whatsapp.net`, lid: '123456789:3@lid', name: 'Alice' };
    };
    const count = async (table: string, id: string) => Number((await ds.query(`SELECT count(*) AS n FROM ${table} WHERE session_id = $1`, [id]))[0].n);

    beforeAll(async () => {
      db = await openDatabase();
      ds = db.dataSource;
      leases = new DatabaseSessionLeases(ds);
    });

    afterAll(async () => {
      await db?.destroy();
    });

    it('creates credentials on first open and reads back real Baileys creds and every key type through a fresh store', async () => {
      const { id, lease } = await newSession();
      const first = await storeA().open(id, lease);
      expect(first.hasCredentials).toBe(false);
      expect(first.state.creds.noiseKey.private).toHaveLength(32);
      expect(await storeA().hasCredentials(id)).toBe(false);

      link(first);
      await first.saveCreds();
      const { data, appStateKey } = sampleKeys();
      await first.state.keys.set(data);

      const again = await storeA().open(id, lease);
      expect(again.hasCredentials).toBe(true);
      expect(await storeA().hasCredentials(id)).toBe(true);
      expect(again.state.creds).toEqual(first.state.creds);
      expect(Buffer.isBuffer(again.state.creds.noiseKey.private)).toBe(true);

      for (const [type, entries] of Object.entries(data)) {
        const ids = Object.keys(entries);
        const read = await again.state.keys.get(type as keyof typeof data, [...ids, 'absent']);
        expect(Object.keys(read).sort()).toEqual(ids.sort());
        if (type !== 'app-state-sync-key') expect(read).toEqual(entries);
      }
      const [syncKey] = Object.values(await again.state.keys.get('app-state-sync-key', ['AAAAAGFx']));
      expect(syncKey).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
      expect(Buffer.from(syncKey.keyData!)).toEqual(Buffer.from(appStateKey.keyData!));
      expect(syncKey.fingerprint?.deviceIndexes).toEqual([0, 1]);

      // null deletes
      await again.state.keys.set({ 'pre-key': { '1': null } });
      expect(await (await storeA().open(id, lease)).state.keys.get('pre-key', ['1'])).toEqual({});
    });

    it('stores no plaintext key material', async () => {
      const { id, lease } = await newSession();
      const auth = await storeA().open(id, lease);
      link(auth);
      await auth.saveCreds();
      const { data, preKey } = sampleKeys();
      await auth.state.keys.set(data);

      const rows = [
        ...(await ds.query(`SELECT * FROM session_credentials WHERE session_id = $1`, [id])),
        ...(await ds.query(`SELECT * FROM session_keys WHERE session_id = $1`, [id])),
      ];
      expect(rows.length).toBe(1 + Object.values(data).reduce((n, e) => n + Object.keys(e).length, 0));
      const raw = Buffer.concat(rows.flatMap((row: Record<string, unknown>) => Object.values(row).map((v) => (v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v))))));
      const creds = auth.state.creds as AuthenticationCreds;
      const secrets = [creds.noiseKey.private, creds.signedIdentityKey.private, creds.signedPreKey.keyPair.private, creds.pairingEphemeralKeyPair.private, preKey.private, Buffer.from(creds.advSecretKey, 'base64')];
      for (const secret of secrets) {
        const bytes = Buffer.from(secret);
        for (const needle of [bytes, Buffer.from(bytes.toString('base64')), Buffer.from(bytes.toString('hex'))]) expect(raw.includes(needle)).toBe(false);
      }
      for (const field of ['noiseKey', 'signedIdentityKey', 'advSecretKey', 'private', 'keyData', '"type":"Buffer"', 'Alice']) expect(raw.includes(Buffer.from(field))).toBe(false);
    });

    it('refuses writes from a former owner and leaves the stored state unchanged', async () => {
      const { id, lease } = await newSession();
      const stale = await storeA().open(id, lease);
      link(stale);
      await stale.saveCreds();
      const before = sampleKeys().data;
      await stale.state.keys.set({ session: before.session });

      await takeOver(id);
      stale.state.creds.me = { id: '5511999999999:9@s.whatsapp.net', name: 'Mallory' };
      await expect(stale.saveCreds()).rejects.toBeInstanceOf(LeaseLostError);
      const overwrite = { session: { '5511900000001.0': randomBytes(120) } };
      await expect(stale.state.keys.set(overwrite)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(stale.state.keys.set({ 'pre-key': { '9': Curve.generateKeyPair() } })).rejects.toBeInstanceOf(LeaseLostError);

      const fresh = await storeA().open(id, lease);
      expect(fresh.state.creds.me?.name).toBe('Alice');
      expect(await fresh.state.keys.get('session', ['5511900000001.0'])).toEqual(before.session);
      expect(await fresh.state.keys.get('pre-key', ['9'])).toEqual({});
      // The refused write never reached the former owner's cache either.
      expect(await stale.state.keys.get('session', ['5511900000001.0'])).toEqual(before.session);
      expect(await fresh.state.keys.get('pre-key', ['9'])).toEqual({});
    });

    it('writes of sessions at the same time share a statement without sharing a fate: only the former owner is refused', async () => {
      const store = storeA();
      const [a, b] = [await newSession(), await newSession()];
      const [authA, authB] = [await store.open(a.id, a.lease), await store.open(b.id, b.lease)];
      for (const auth of [authA, authB]) {
        link(auth);
        await auth.saveCreds();
      }
      await takeOver(b.id);
      const keyA = { '5511900000002.0': randomBytes(64) };
      const keyB = { '5511900000003.0': randomBytes(64) };
      const [resultA, resultB] = await Promise.allSettled([authA.state.keys.set({ session: keyA }), authB.state.keys.set({ session: keyB })]);
      expect(resultA.status).toBe('fulfilled');
      expect(resultB.status === 'rejected' && resultB.reason).toBeInstanceOf(LeaseLostError);
      expect(await (await storeA().open(a.id, a.lease)).state.keys.get('session', ['5511900000002.0'])).toEqual(keyA);
      const rows = await ds.query(`SELECT count(*)::int AS n FROM session_keys WHERE session_id = $1 AND key_id = '5511900000003.0'`, [b.id]);
      expect(rows[0].n).toBe(0);
    });

    it('of two writers of one session in one process, the former owner is refused even when both write at once', async () => {
      const store = storeA();
      const { id, lease } = await newSession();
      const former = await store.open(id, lease);
      link(former);
      await former.saveCreds();
      const current = await store.open(id, await takeOver(id));
      const [old, now] = await Promise.allSettled([
        former.state.keys.set({ session: { '5511900000004.0': randomBytes(64) } }),
        current.state.keys.set({ session: { '5511900000005.0': randomBytes(64) } }),
      ]);
      expect(old.status === 'rejected' && old.reason).toBeInstanceOf(LeaseLostError);
      expect(now.status).toBe('fulfilled');
      const rows = await ds.query(`SELECT key_id FROM session_keys WHERE session_id = $1 AND key_id LIKE '55119000000%' ORDER BY key_id`, [id]);
      expect(rows.map((r: { key_id: string }) => r.key_id)).toEqual(['5511900000005.0']);
    });

    it('opening under a lost lease creates nothing', async () => {
      const { id, lease } = await newSession();
      await takeOver(id);
      await expect(storeA().open(id, lease)).rejects.toBeInstanceOf(LeaseLostError);
      expect(await count('session_credentials', id)).toBe(0);
    });

    it('a failure in the middle of keys.set leaves none of that call’s writes', async () => {
      const { id, lease } = await newSession();
      const auth = await storeA().open(id, lease);
      const kept = Curve.generateKeyPair();
      await auth.state.keys.set({ 'pre-key': { '2': kept } });
      await ds.query(`
        CREATE OR REPLACE FUNCTION session_keys_fail_on_boom() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.key_id = 'boom' THEN RAISE EXCEPTION 'forced failure'; END IF;
          RETURN NEW;
        END $$`);
      await ds.query(`CREATE TRIGGER session_keys_fail_on_boom BEFORE INSERT OR UPDATE ON session_keys FOR EACH ROW EXECUTE FUNCTION session_keys_fail_on_boom()`);
      try {
        await expect(
          auth.state.keys.set({ 'pre-key': { '2': null, '3': Curve.generateKeyPair() }, session: { ok: randomBytes(8), boom: randomBytes(8) } }),
        ).rejects.toThrow(/forced failure/);
      } finally {
        await ds.query(`DROP TRIGGER session_keys_fail_on_boom ON session_keys`);
        await ds.query(`DROP FUNCTION session_keys_fail_on_boom()`);
      }
      for (const reader of [auth, await storeA().open(id, lease)]) {
        expect(await reader.state.keys.get('pre-key', ['2', '3'])).toEqual({ '2': kept });
        expect(await reader.state.keys.get('session', ['ok', 'boom'])).toEqual({});
      }
      expect(await count('session_keys', id)).toBe(1);
      // The store still writes after the failure.
      await auth.state.keys.set({ session: { ok: Buffer.from('fine') } });
      expect(await (await storeA().open(id, lease)).state.keys.get('session', ['ok'])).toEqual({ ok: Buffer.from('fine') });
    });

    it('serves hot keys from memory, including known absences', async () => {
      const { id, lease } = await newSession();
      const auth = await storeA().open(id, lease);
      await auth.state.keys.set({ session: { a: randomBytes(16) } });
      const query = jest.spyOn(ds, 'query');
      try {
        const reads = () => query.mock.calls.filter(([sql]) => String(sql).includes('FROM session_keys')).length;
        await auth.state.keys.get('session', ['a', 'missing']);
        const afterFirst = reads();
        for (let i = 0; i < 5; i++) expect(Object.keys(await auth.state.keys.get('session', ['a', 'missing']))).toEqual(['a']);
        expect(reads()).toBe(afterFirst);
        // A write-through replaces the cached value without a read.
        await auth.state.keys.set({ session: { a: Buffer.from('new'), missing: Buffer.from('now here') } });
        expect(await auth.state.keys.get('session', ['a', 'missing'])).toEqual({ a: Buffer.from('new'), missing: Buffer.from('now here') });
        expect(reads()).toBe(afterFirst);
        // close() releases the cache: the next read goes to the database again.
        auth.close?.();
        expect(await auth.state.keys.get('session', ['a'])).toEqual({ a: Buffer.from('new') });
        expect(reads()).toBe(afterFirst + 1);
      } finally {
        query.mockRestore();
      }
    });

    it('wipe removes credentials and keys; a handle still open cannot write them back', async () => {
      const { id, lease } = await newSession();
      const store = storeA();
      const auth = await store.open(id, lease);
      link(auth);
      await auth.saveCreds();
      await auth.state.keys.set(sampleKeys().data);
      const other = await storeA().open(id, lease);

      await store.wipe(id);
      expect(await count('session_credentials', id)).toBe(0);
      expect(await count('session_keys', id)).toBe(0);
      expect(await store.hasCredentials(id)).toBe(false);
      await expect(auth.saveCreds()).rejects.toBeInstanceOf(AuthStateWipedError);
      expect(await auth.state.keys.get('pre-key', ['1'])).toEqual({});
      // A handle of another store instance (another process) learns it from the database.
      await expect(other.saveCreds()).rejects.toBeInstanceOf(AuthStateWipedError);
      await expect(other.state.keys.set({ session: { x: randomBytes(4) } })).rejects.toBeInstanceOf(AuthStateWipedError);
      expect(await count('session_keys', id)).toBe(0);

      const relinked = await storeA().open(id, lease);
      expect(relinked.hasCredentials).toBe(false);
      expect(Buffer.from(relinked.state.creds.noiseKey.private)).not.toEqual(Buffer.from(auth.state.creds.noiseKey.private));
    });

    it('with the wrong master key, fails with a clear error instead of garbage', async () => {
      const { id, lease } = await newSession();
      await storeA().open(id, lease);
      const wrong = new DatabaseAuthStateStore(ds, new CredentialsKeyring(KEY_C), leases);
      const error = await wrong.open(id, lease).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CredentialsKeyError);
      expect((error as Error).message).toContain(CredentialsKeyring.keyIdOf(KEY_A));
      expect((error as Error).message).toContain('CREDENTIALS_KEY');
      expect((error as Error).message).not.toContain(KEY_A.toString('base64'));
    });

    it('refuses a ciphertext moved to another row, and a tampered data key', async () => {
      const { id, lease } = await newSession();
      const auth = await storeA().open(id, lease);
      await auth.state.keys.set({ session: { a: randomBytes(16), b: randomBytes(16) } });
      await ds.query(`UPDATE session_keys SET value = (SELECT value FROM session_keys WHERE session_id = $1 AND key_id = 'a') WHERE session_id = $1 AND key_id = 'b'`, [id]);
      const reader = await storeA().open(id, lease);
      await expect(reader.state.keys.get('session', ['b'])).rejects.toBeInstanceOf(CredentialsKeyError);

      await ds.query(`UPDATE session_credentials SET wrapped_key = overlay(wrapped_key placing '\\x00'::bytea from 20 for 1) WHERE session_id = $1`, [id]);
      await expect(storeA().open(id, lease)).rejects.toThrow(/corrupt or was altered/);
    });

    it('rotates the master key while a store keeps reading and writing with its cached data key', async () => {
      const sessions = await Promise.all([newSession(), newSession(), newSession()]);
      const running = storeA();
      const handles: OpenAuthState[] = [];
      for (const { id, lease } of sessions) {
        const auth = await running.open(id, lease);
        link(auth);
        await auth.saveCreds();
        await auth.state.keys.set({ session: { before: Buffer.from(`before ${id}`) } });
        handles.push(auth);
      }
      const unknown = await newSession();
      await new DatabaseAuthStateStore(ds, new CredentialsKeyring(KEY_C), leases).open(unknown.id, unknown.lease);

      const rotating = new CredentialsKeyring(KEY_B, [KEY_A]);
      const duringRotation: Array<Promise<void> | void> = [];
      const result = await rotateCredentialsKey(ds, rotating, {
        batchSize: 1,
        onProgress: () => {
          for (const [i, auth] of handles.entries()) duringRotation.push(auth.state.keys.set({ session: { [`during-${duringRotation.length}`]: Buffer.from(`${i}`) } }));
        },
      });
      await Promise.all(duringRotation);
      // Earlier tests left other sessions in this database: they are rotated (or reported) too.
      expect(result.rewrapped).toBeGreaterThanOrEqual(sessions.length);
      expect(result.unreadable).toContain(unknown.id);
      for (const { id } of sessions) expect(result.unreadable).not.toContain(id);
      expect(result.total).toBe(result.rewrapped + result.alreadyCurrent + result.unreadable.length);

      // The running store never noticed: it writes and reads after the rotation too.
      for (const auth of handles) {
        auth.state.creds.me!.name = 'Alice after rotation';
        await auth.saveCreds();
        await auth.state.keys.set({ session: { after: Buffer.from('after') } });
        expect(await auth.state.keys.get('session', ['before', 'after'])).toEqual({ before: expect.any(Buffer), after: Buffer.from('after') });
      }

      const onlyB = new DatabaseAuthStateStore(ds, new CredentialsKeyring(KEY_B), leases);
      for (const { id, lease } of sessions) {
        const [row] = await ds.query(`SELECT key_id FROM session_credentials WHERE session_id = $1`, [id]);
        expect(row.key_id).toBe(CredentialsKeyring.keyIdOf(KEY_B));
        const auth = await onlyB.open(id, lease);
        expect(auth.state.creds.me?.name).toBe('Alice after rotation');
        const keys = await auth.state.keys.get('session', ['before', 'after']);
        expect(keys).toEqual({ before: Buffer.from(`before ${id}`), after: Buffer.from('after') });
      }
      const during = await ds.query(`SELECT count(*) AS n FROM session_keys WHERE key_id LIKE 'during-%' AND session_id = ANY($1::uuid[])`, [sessions.map((s) => s.id)]);
      expect(Number(during[0].n)).toBeGreaterThan(0);
      await expect(storeA().open(sessions[0].id, sessions[0].lease)).rejects.toBeInstanceOf(CredentialsKeyError);

      const again = await rotateCredentialsKey(ds, rotating);
      expect(again.rewrapped).toBe(0);
      expect(again.alreadyCurrent).toBeGreaterThanOrEqual(sessions.length);
    });
  });
}
