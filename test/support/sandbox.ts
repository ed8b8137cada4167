import { randomInt } from 'node:crypto';
import { DataSource as DataSourceToken } from 'typeorm';
import { WaEmulator, type SimulatedPhone } from '../../libs/wa-emulator/src';
import { authHeaders, InProcessGateway, startGateway } from './gateway';
import { waitFor } from './services';
// Baileys rc14 leaves a 30 s timer behind on every fresh login; the emulator test support unrefs such timers.
import '../emulator/support/gateway-client';

export const json = { 'content-type': 'application/json' };

/** Settings that keep the session runtime fast under test; each test may override them. */
export const FAST_RUNTIME = {
  SESSION_RECONNECT_BASE_MS: '50',
  SESSION_RECONNECT_MAX_MS: '400',
  SESSION_RECONCILE_INTERVAL_MS: '200',
  SESSION_COMMAND_POLL_MS: '50',
  SESSION_RESTORE_JITTER_MS: '20',
  WEBHOOK_ALLOW_PRIVATE_HOSTS: '127.0.0.1,localhost',
};

export const randomPhoneNumber = () => `55119${randomInt(10_000_000, 99_999_999)}`;

/** The gateway in sandbox mode against an in-process emulator. */
export class Sandbox {
  gateway!: InProcessGateway;

  constructor(
    readonly emulator: WaEmulator,
    private readonly env: Record<string, string>,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<Sandbox> {
    const emulator = await WaEmulator.start({ port: 0 });
    const sandbox = new Sandbox(emulator, env);
    await sandbox.startGateway();
    return sandbox;
  }

  async startGateway(extra: Record<string, string> = {}): Promise<InProcessGateway> {
    this.gateway = await startGateway({ ...FAST_RUNTIME, WA_SANDBOX_URL: this.emulator.url, ...this.env, ...extra, ...(this.gateway && { DATA_DIR: this.gateway.dataDir }) });
    return this.gateway;
  }

  async restartGateway(extra: Record<string, string> = {}): Promise<InProcessGateway> {
    await this.gateway.close();
    return this.startGateway(extra);
  }

  api(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.gateway.url}${path}`, { ...init, headers: { ...json, ...authHeaders(), ...(init.headers as Record<string, string>) } });
  }

  async apiJson<T = any>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.api(path, init);
    const body = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path} -> ${res.status}: ${body}`);
    return (body ? JSON.parse(body) : undefined) as T;
  }

  async createConnection(body: Record<string, unknown> = {}): Promise<string> {
    const created = await this.apiJson<{ sessionId: string }>('/connections', { method: 'POST', body: JSON.stringify({ label: 'test', ...body }) });
    return created.sessionId;
  }

  connection(sessionId: string) {
    return this.apiJson<{ status: string; statusReason: string | null; phoneNumber: string | null }>(`/connections/${sessionId}`);
  }

  waitForStatus(sessionId: string, status: string | string[], timeoutMs = 15_000) {
    const wanted = Array.isArray(status) ? status : [status];
    return waitFor(async () => {
      const c = await this.connection(sessionId);
      return wanted.includes(c.status) ? c : undefined;
    }, { timeoutMs, intervalMs: 30, what: `connection ${sessionId} to be ${wanted.join('|')}` });
  }

  /** Creates a connection and links it to a new simulated phone by QR. */
  async linkedConnection(phoneNumber = randomPhoneNumber(), body: Record<string, unknown> = {}): Promise<{ sessionId: string; phone: SimulatedPhone }> {
    const phone = this.emulator.createPhone({ phoneNumber });
    const sessionId = await this.createConnection(body);
    await this.waitForStatus(sessionId, 'qr');
    const { qr } = await this.apiJson<{ qr: string }>(`/connections/${sessionId}/qr`);
    await phone.scanQr(qr);
    await this.waitForStatus(sessionId, 'connected');
    return { sessionId, phone };
  }

  query<T = any>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.gateway.app.get(DataSourceToken).query(sql, params);
  }

  async close(): Promise<void> {
    await this.gateway?.close();
    await this.emulator.close();
  }
}
