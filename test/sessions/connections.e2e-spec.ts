import { PNG } from 'pngjs';
import jsQR from 'jsqr';
import { SessionSupervisor } from '../../libs/sessions/src/runtime/session-supervisor';
import { Sandbox, randomPhoneNumber } from '../support/sandbox';
import { waitFor } from '../support/services';

/**
 * Connections on the real Baileys against the emulator: login by QR and by
 * pairing code, restore after a restart, and what each disconnect does.
 */
describe('connections on real Baileys (embedded mode)', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await Sandbox.start({ SESSION_MAX_RESTARTS: '3', SESSION_STABLE_AFTER_MS: '600000' });
  });
  afterAll(async () => sandbox?.close());

  const supervisor = () => sandbox.gateway.app.get(SessionSupervisor);
  const auditOf = (sessionId: string) => sandbox.query<{ type: string; detail: Record<string, unknown>; timestamp: Date }>(`SELECT type, detail, timestamp FROM events WHERE session_id = $1 ORDER BY id`, [sessionId]);

  it('logs in by QR: qr -> connected; the QR is served as JSON, PNG and SVG; 409 once connected', async () => {
    const phone = sandbox.emulator.createPhone({ phoneNumber: randomPhoneNumber() });
    const sessionId = await sandbox.createConnection();
    await sandbox.waitForStatus(sessionId, 'qr');

    const qr = await sandbox.apiJson<{ qr: string; expiresAt: string }>(`/connections/${sessionId}/qr`);
    expect(qr.qr.split(',')).toHaveLength(5);
    expect(Date.parse(qr.expiresAt)).toBeGreaterThan(Date.now());

    const png = await sandbox.api(`/connections/${sessionId}/qr`, { headers: { accept: 'image/png' } });
    expect(png.headers.get('content-type')).toBe('image/png');
    const image = PNG.sync.read(Buffer.from(await png.arrayBuffer()));
    expect(jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data).toBe(qr.qr);
    const svg = await sandbox.api(`/connections/${sessionId}/qr`, { headers: { accept: 'image/svg+xml' } });
    expect(svg.headers.get('content-type')).toContain('image/svg+xml');
    expect(await svg.text()).toContain('<svg');

    await phone.scanQr(qr.qr);
    const connected = await sandbox.waitForStatus(sessionId, 'connected');
    expect(connected.phoneNumber).toBe(phone.phoneNumber);
    const after = await sandbox.api(`/connections/${sessionId}/qr`);
    expect(after.status).toBe(409);
    expect(((await after.json()) as { code: string }).code).toBe('SESSION_NOT_AWAITING_QR');

    const statuses = (await auditOf(sessionId)).map((e) => e.detail.status).filter(Boolean);
    expect(statuses).toEqual(expect.arrayContaining(['connecting', 'qr', 'connected']));
  });

  it('logs in by pairing code', async () => {
    const phone = sandbox.emulator.createPhone({ phoneNumber: randomPhoneNumber() });
    const sessionId = await sandbox.createConnection();
    await sandbox.waitForStatus(sessionId, 'qr');
    const { code } = await sandbox.apiJson<{ code: string }>(`/connections/${sessionId}/pairing-code`, { method: 'POST', body: JSON.stringify({ phoneNumber: phone.phoneNumber }) });
    expect(code).toMatch(/^[A-Z0-9]{8}$/);
    await phone.enterPairingCode(code);
    expect((await sandbox.waitForStatus(sessionId, 'connected')).phoneNumber).toBe(phone.phoneNumber);
  });

  it('refuses a pairing code for a connection that is not waiting for a login, and bad input', async () => {
    const { sessionId } = await sandbox.linkedConnection();
    const res = await sandbox.api(`/connections/${sessionId}/pairing-code`, { method: 'POST', body: JSON.stringify({ phoneNumber: '5511999999999' }) });
    expect(res.status).toBe(409);
    const bad = await sandbox.api(`/connections/${sessionId}/pairing-code`, { method: 'POST', body: JSON.stringify({ phoneNumber: 'call me' }) });
    expect(bad.status).toBe(400);
  });

  it('comes back connected after a gateway restart, with no new QR', async () => {
    const { sessionId, phone } = await sandbox.linkedConnection();
    const before = (await auditOf(sessionId)).length;
    await sandbox.restartGateway();
    const connected = await sandbox.waitForStatus(sessionId, 'connected', 20_000);
    expect(connected.phoneNumber).toBe(phone.phoneNumber);
    const since = (await auditOf(sessionId)).slice(before);
    expect(since.map((e) => e.type)).not.toContain('qr');
    expect(since.some((e) => e.detail.status === 'connected')).toBe(true);
  });

  it('a drop and a 515 reconnect; a stream error too', async () => {
    const { sessionId, phone } = await sandbox.linkedConnection();
    const linked = (await auditOf(sessionId)).length;
    for (const fault of [{ type: 'drop' }, { type: 'restart-required' }, { type: 'stream-error', code: 503 }] as const) {
      const before = (await auditOf(sessionId)).length;
      phone.fault(fault);
      await waitFor(async () => (await auditOf(sessionId)).slice(before).some((e) => e.type === 'reconnect'), { what: `a reconnect after ${fault.type}` });
      await sandbox.waitForStatus(sessionId, 'connected');
    }
    const reconnects = (await auditOf(sessionId)).slice(linked).filter((e) => e.type === 'reconnect');
    expect(reconnects.map((e) => e.detail.code)).toEqual([428, 515, 503]);
    expect(reconnects[1].detail.delayMs).toBe(0);
  });

  it('440 (replaced) stops without reconnecting', async () => {
    const { sessionId, phone } = await sandbox.linkedConnection();
    phone.fault({ type: 'conflict' });
    const stopped = await sandbox.waitForStatus(sessionId, 'stopped');
    expect(stopped.statusReason).toContain('440');
    await supervisor().reconcile();
    expect(supervisor().runner(sessionId)).toBeUndefined();
    expect(phone.connectedDevices).toEqual([]);
    expect((await sandbox.connection(sessionId)).status).toBe('stopped');
  });

  it('401 (device removed) -> logged_out, credentials wiped, no reconnect; restart gives a new QR', async () => {
    const { sessionId, phone } = await sandbox.linkedConnection();
    phone.fault({ type: 'logout' });
    await sandbox.waitForStatus(sessionId, 'logged_out');
    expect(await sandbox.query(`SELECT 1 FROM session_credentials WHERE session_id = $1`, [sessionId])).toHaveLength(0);
    await supervisor().reconcile();
    expect(supervisor().runner(sessionId)).toBeUndefined();
    expect((await sandbox.api(`/connections/${sessionId}/restart`, { method: 'POST' })).status).toBe(202);
    await sandbox.waitForStatus(sessionId, 'qr');
  });

  it('POST /logout unlinks the device at the emulator and ends logged_out', async () => {
    const { sessionId, phone } = await sandbox.linkedConnection();
    expect(phone.connectedDevices).toHaveLength(1);
    expect((await sandbox.api(`/connections/${sessionId}/logout`, { method: 'POST' })).status).toBe(202);
    await sandbox.waitForStatus(sessionId, 'logged_out');
    await waitFor(() => phone.connectedDevices.length === 0, { what: 'the device to be unlinked' });
  });

  it('fails after repeated restarts, with growing backoff', async () => {
    const { sessionId, phone } = await sandbox.linkedConnection();
    const linked = (await auditOf(sessionId)).length;
    for (let i = 0; i < 10; i++) {
      const current = await sandbox.waitForStatus(sessionId, ['connected', 'failed']);
      if (current.status === 'failed') break;
      phone.fault({ type: 'drop' });
      await waitFor(async () => (await sandbox.connection(sessionId)).status !== 'connected', { what: 'the drop to be seen' });
    }
    const failed = await sandbox.waitForStatus(sessionId, 'failed');
    expect(failed.statusReason).toContain('restarts');
    const delays = (await auditOf(sessionId)).slice(linked).filter((e) => e.type === 'reconnect').map((e) => Number(e.detail.delayMs));
    expect(delays).toHaveLength(3);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]);
    await supervisor().reconcile();
    expect(supervisor().runner(sessionId)).toBeUndefined();
  });

  it('DELETE unlinks, wipes the credentials and keeps the audit trail', async () => {
    const { sessionId, phone } = await sandbox.linkedConnection();
    expect((await sandbox.api(`/connections/${sessionId}`, { method: 'DELETE' })).status).toBe(204);
    await waitFor(async () => (await sandbox.query(`SELECT 1 FROM session_credentials WHERE session_id = $1`, [sessionId])).length === 0, { what: 'credentials to be wiped' });
    await waitFor(() => phone.connectedDevices.length === 0, { what: 'the device to be unlinked' });
    expect((await sandbox.api(`/connections/${sessionId}`)).status).toBe(404);
    expect((await auditOf(sessionId)).length).toBeGreaterThan(0);
  });

  it('stores no plaintext key material', async () => {
    const { sessionId } = await sandbox.linkedConnection();
    const [creds] = await sandbox.query<{ creds: Buffer; wrapped_key: Buffer }>(`SELECT * FROM session_credentials WHERE session_id = $1`, [sessionId]);
    const keys = await sandbox.query<{ value: Buffer }>(`SELECT value FROM session_keys WHERE session_id = $1`, [sessionId]);
    expect(keys.length).toBeGreaterThan(0);
    const blob = Buffer.concat([creds.creds, creds.wrapped_key, ...keys.map((k) => k.value)]);
    for (const marker of ['noiseKey', 'signedIdentityKey', 'private', 'advSecretKey', 'pubKey']) expect(blob.includes(Buffer.from(marker))).toBe(false);
  });
});
