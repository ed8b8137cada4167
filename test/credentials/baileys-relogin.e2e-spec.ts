import { randomBytes } from 'node:crypto';
import makeWASocket, { type WASocket } from '@whiskeysockets/baileys';
import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '../../libs/persistence/src';
import { DatabaseSessionLeases, sessionOwnershipMigrations, type Lease } from '../../libs/sessions/src/ownership';
import { WaEmulator } from '../../libs/wa-emulator/src';
import { authStateMigrations, CredentialsKeyring, DatabaseAuthStateStore, redactKeyMaterialInConsole, type OpenAuthState } from '../../libs/whatsapp/src/auth-state';
import { silentLogger, trustRoot } from '../emulator/support/gateway-client';
import { waitFor } from '../support/services';

/** One real Baileys socket on the encrypted store, saving creds the way the gateway does. */
class StoredSession {
  sock!: WASocket;
  readonly qrs: string[] = [];
  opened = 0;
  readonly closes: Array<number | undefined> = [];
  private readonly saves: Array<Promise<void>> = [];
  private stopped = false;

  constructor(
    private readonly wsUrl: string,
    private readonly auth: OpenAuthState,
  ) {}

  start(): this {
    const sock = makeWASocket({
      waWebSocketUrl: this.wsUrl,
      auth: this.auth.state,
      logger: silentLogger,
      markOnlineOnConnect: false,
      connectTimeoutMs: 10_000,
      getMessage: async () => undefined,
    });
    this.sock = sock;
    sock.ev.on('creds.update', (update) => {
      Object.assign(this.auth.state.creds, update);
      this.saves.push(this.auth.saveCreds());
    });
    sock.ev.on('connection.update', (u) => {
      if (u.qr) this.qrs.push(u.qr);
      if (u.connection === 'open') this.opened++;
      if (u.connection === 'close') {
        const code = (u.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode;
        this.closes.push(code);
        // After pairing WhatsApp asks for a restart (515): reconnect at once with the saved credentials.
        if (code === 515 && !this.stopped) this.start();
      }
    });
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const closed = this.closes.length;
    this.sock.end(undefined);
    await waitFor(() => this.closes.length > closed, { what: 'socket closed' });
    await Promise.all(this.saves);
  }
}

describe('encrypted auth state with the real Baileys against the emulator', () => {
  let emulator: WaEmulator;
  let previousRoot: Buffer;
  let ds: DataSource;
  let leases: DatabaseSessionLeases;
  const sessions: StoredSession[] = [];
  const masterKey = randomBytes(32);
  const consoleLines: unknown[][] = [];
  const consoleSpies: jest.SpyInstance[] = [];
  let restoreConsole: () => void = () => undefined;

  beforeAll(async () => {
    // What reaches the console passes the redaction first (libsignal prints session entries there).
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      consoleSpies.push(jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void consoleLines.push(args)));
    }
    restoreConsole = redactKeyMaterialInConsole();
    emulator = await WaEmulator.start({ port: 0 });
    previousRoot = trustRoot(emulator.rootPublicKey);
    ds = await createDataSource({ migrations: [...sessionOwnershipMigrations, ...authStateMigrations] });
    await ds.initialize();
    await runMigrations(ds);
    leases = new DatabaseSessionLeases(ds);
  });

  afterAll(async () => {
    for (const s of sessions) await s.stop().catch(() => undefined);
    await emulator?.close();
    if (previousRoot) trustRoot(previousRoot);
    await ds?.destroy();
    restoreConsole();
    for (const spy of consoleSpies) spy.mockRestore();
  });

  it('logs in by QR, and after a restart logs in again from the database with no QR and working Signal sessions', async () => {
    const alice = emulator.createPhone({ phoneNumber: '5511900000101', pushName: 'Alice' });
    const bob = emulator.createPhone({ phoneNumber: '5511900000102', pushName: 'Bob' });
    const [{ id }] = await ds.query(`INSERT INTO sessions (label) VALUES ('alice') RETURNING id`);
    const lease: Lease = (await leases.acquire(id, 'worker-a'))!;

    const firstStore = new DatabaseAuthStateStore(ds, new CredentialsKeyring(masterKey), leases);
    const firstAuth = await firstStore.open(id, lease);
    expect(firstAuth.hasCredentials).toBe(false);
    const first = new StoredSession(emulator.wsUrl, firstAuth).start();
    sessions.push(first);
    const qr = await waitFor(() => first.qrs[0], { what: 'first QR', timeoutMs: 10_000 });
    await alice.scanQr(qr);
    await waitFor(() => first.opened > 0, { what: 'open after pairing', timeoutMs: 15_000 });
    expect(first.closes).toEqual([515]);
    const sent = await first.sock.sendMessage(bob.jid, { text: 'before the restart' });
    await waitFor(() => bob.messages.find((m) => m.id === sent!.key.id), { what: 'first message at bob' });
    await first.stop();

    expect(await firstStore.hasCredentials(id)).toBe(true);
    const [{ keys }] = await ds.query(`SELECT count(*) AS keys FROM session_keys WHERE session_id = $1`, [id]);
    expect(Number(keys)).toBeGreaterThan(0);

    // A new process: a fresh store instance on the same database, nothing in memory.
    const secondAuth = await new DatabaseAuthStateStore(ds, new CredentialsKeyring(masterKey), leases).open(id, lease);
    expect(secondAuth.hasCredentials).toBe(true);
    expect(secondAuth.state.creds.me?.id).toBe(firstAuth.state.creds.me?.id);
    const second = new StoredSession(emulator.wsUrl, secondAuth).start();
    sessions.push(second);
    await waitFor(() => second.opened > 0, { what: 'open from stored credentials', timeoutMs: 15_000 });
    expect(second.qrs).toEqual([]);
    expect(alice.connectedDevices).toHaveLength(1);

    const again = await second.sock.sendMessage(bob.jid, { text: 'after the restart' });
    await waitFor(() => bob.messages.find((m) => m.id === again!.key.id), { what: 'second message at bob' });
    expect(bob.messages.map((m) => m.text)).toEqual(['before the restart', 'after the restart']);
    expect(bob.decryptFailures).toBe(0);
    expect(bob.duplicates).toBe(0);

    // libsignal printed its session entries, but no key bytes reached the console.
    const printed = JSON.stringify(consoleLines, (_k, v: unknown) => (v instanceof Uint8Array ? 'BYTES' : v));
    expect(consoleLines.length).toBeGreaterThan(0);
    expect(printed).not.toContain('BYTES');
    expect(printed).not.toContain('privKey');
  });
});
