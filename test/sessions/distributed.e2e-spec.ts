import { DataSource } from 'typeorm';
import { WaEmulator } from '../../libs/wa-emulator/src';
import { CredentialsKeyring, rotateCredentialsKey } from '../../libs/whatsapp/src/auth-state';
import { authHeaders, ChildGateway, InProcessGateway, spawnGateway, startGateway, TEST_ADMIN_KEY, TEST_CREDENTIALS_KEY, untilListening } from '../support/gateway';
import { FAST_RUNTIME, json, randomPhoneNumber } from '../support/sandbox';
import { createTestDatabase, describeWithServices, TEST_REDIS_URL, uniquePrefix, waitFor } from '../support/services';
import '../emulator/support/gateway-client';

const NEW_KEY = Buffer.alloc(32, 9).toString('base64');

/**
 * Distributed mode: one api and worker processes on PostgreSQL and Redis.
 * A killed worker's session is taken over by another once its lease expires,
 * without a new QR and without two sockets on the account; the credentials
 * master key rotates while the session runs.
 */
describeWithServices(['postgres', 'redis'], 'sessions across worker processes', () => {
  let emulator: WaEmulator;
  let db: { url: string; drop: () => Promise<void> };
  let api: InProcessGateway;
  const workers: ChildGateway[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    emulator = await WaEmulator.start({ port: 0 });
    db = await createTestDatabase();
    env = {
      ...FAST_RUNTIME,
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniquePrefix('dist'),
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      CREDENTIALS_KEY: TEST_CREDENTIALS_KEY,
      WA_SANDBOX_URL: emulator.url,
      LEASE_TTL_MS: '3000',
      LEASE_RENEW_INTERVAL_MS: '500',
      LEASE_SAFETY_MARGIN_MS: '1000',
    };
    api = await startGateway({ ...env, ROLE: 'api', LOG_LEVEL: 'silent' });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await api?.close();
    await emulator?.close();
    await db?.drop();
  });

  const startWorker = async (extra: Record<string, string> = {}) => {
    const worker = spawnGateway({ ...env, ...extra, ROLE: 'worker' }, 'apps/worker/src/main.ts');
    workers.push(worker);
    await untilListening(worker, 60_000);
    return worker;
  };
  const call = async <T = any>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${api.url}${path}`, { ...init, headers: { ...json, ...authHeaders(), ...(init.headers as Record<string, string>) } });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const statusIs = (sessionId: string, status: string, timeoutMs = 20_000) =>
    waitFor(async () => ((await call(`/connections/${sessionId}`)).status === status ? true : undefined), { timeoutMs, what: `status ${status}` });
  const lease = async (sessionId: string) => (await api.app.get(DataSource).query(`SELECT owner, epoch::int AS epoch FROM session_leases WHERE session_id = $1`, [sessionId]))[0] as { owner: string; epoch: number };

  it('a killed worker is replaced by another at a higher epoch, with no QR and no conflict; the key rotates while connected', async () => {
    const [first, second] = await Promise.all([startWorker(), startWorker()]);
    const phone = emulator.createPhone({ phoneNumber: randomPhoneNumber() });
    const { sessionId } = await call<{ sessionId: string }>('/connections', { method: 'POST', body: '{}' });
    await statusIs(sessionId, 'qr');
    const { qr } = await call<{ qr: string }>(`/connections/${sessionId}/qr`);
    await phone.scanQr(qr);
    await statusIs(sessionId, 'connected');

    const before = await lease(sessionId);
    const owner = [first, second].find((w) => before.owner.includes(`:${w.child.pid}:`))!;
    expect(owner).toBeDefined();
    await owner.stop('SIGKILL');

    const after = await waitFor(async () => {
      const l = await lease(sessionId);
      return l.epoch > before.epoch ? l : undefined;
    }, { timeoutMs: 20_000, what: 'another worker to take the session over' });
    expect(after.owner).not.toBe(before.owner);
    await statusIs(sessionId, 'connected');
    const audit = await api.app.get(DataSource).query(`SELECT type, detail FROM events WHERE session_id = $1 ORDER BY id`, [sessionId]);
    expect(audit.filter((e: { type: string }) => e.type === 'qr')).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain('440');
    await waitFor(() => phone.connectedDevices.length === 1, { what: 'exactly one linked socket' });

    // Rotation while the session runs: re-wrap under the new key (old one still accepted meanwhile).
    const keyring = new CredentialsKeyring(Buffer.from(NEW_KEY, 'base64'), [Buffer.from(TEST_CREDENTIALS_KEY, 'base64')]);
    const rotation = await rotateCredentialsKey(api.app.get(DataSource), keyring);
    expect(rotation.rewrapped).toBeGreaterThanOrEqual(1);
    expect(rotation.unreadable).toEqual([]);
    // The running worker keeps writing keys with its cached data key.
    await phone.sendText(`${(await call(`/connections/${sessionId}`)).phoneNumber}@s.whatsapp.net`, 'after rotation');
    await waitFor(async () => (await api.app.get(DataSource).query(`SELECT 1 FROM session_keys WHERE session_id = $1 AND type = 'session'`, [sessionId])).length > 0, { what: 'signal session keys to be written' });
    // Every worker restarts with only the new key: the session comes back without a QR.
    const stopped = await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    expect(stopped.every((s) => s.code === 0 || s.signal === 'SIGKILL')).toBe(true);
    // A clean stop hands the session over: it reads connecting and its lease is free at once.
    const [handedOver] = await api.app.get(DataSource).query(
      `SELECT s.status, l.expires_at <= now() AS released FROM sessions s JOIN session_leases l ON l.session_id = s.id WHERE s.id = $1`,
      [sessionId],
    );
    expect(handedOver).toEqual({ status: 'connecting', released: true });
    await startWorker({ CREDENTIALS_KEY: NEW_KEY });
    await statusIs(sessionId, 'connected', 30_000);
    const qrs = await api.app.get(DataSource).query(`SELECT count(*)::int AS n FROM events WHERE session_id = $1 AND type = 'qr'`, [sessionId]);
    expect(qrs[0].n).toBe(1);
  }, 180_000);
});
