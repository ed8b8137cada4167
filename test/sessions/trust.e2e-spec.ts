import http from 'node:http';
import { AddressInfo } from 'node:net';
import { WaEmulator } from '../../libs/wa-emulator/src';
import { strictVerifierRejectionCount } from '../../libs/whatsapp/src/security';
import { authHeaders, InProcessGateway, startGateway } from '../support/gateway';
import { FAST_RUNTIME, json } from '../support/sandbox';
import { waitFor } from '../support/services';
import '../emulator/support/gateway-client';

/**
 * A server whose certificate chain is not signed by the trusted root must be
 * refused. Baileys 7 alone accepts it (its Curve.verify accepts any signature);
 * the gateway's strict verifier does not.
 */
describe('certificate chain trust', () => {
  let trusted: WaEmulator;
  let rogue: WaEmulator;
  let info: http.Server;
  let gateway: InProcessGateway | undefined;

  beforeAll(async () => {
    trusted = await WaEmulator.start({ port: 0 });
    rogue = await WaEmulator.start({ port: 0 });
    // Claims the trusted root but sends clients to the rogue server's socket.
    info = http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ wsUrl: rogue.wsUrl, rootPublicKey: trusted.rootPublicKeyHex }));
    });
    await new Promise<void>((resolve) => info.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });
  afterAll(async () => {
    info.close();
    await Promise.all([trusted.close(), rogue.close()]);
  });

  const connect = async (env: Record<string, string>) => {
    gateway = await startGateway({ ...FAST_RUNTIME, SESSION_MAX_RESTARTS: '50', WA_SANDBOX_URL: `http://127.0.0.1:${(info.address() as AddressInfo).port}`, ...env });
    const res = await fetch(`${gateway.url}/connections`, { method: 'POST', headers: { ...json, ...authHeaders() }, body: '{}' });
    return ((await res.json()) as { sessionId: string }).sessionId;
  };
  const statusOf = async (sessionId: string) => ((await (await fetch(`${gateway!.url}/connections/${sessionId}`, { headers: authHeaders() })).json()) as { status: string }).status;

  it('rejects a server whose chain is signed by another root: no QR is ever shown', async () => {
    const before = strictVerifierRejectionCount();
    const sessionId = await connect({});
    await waitFor(() => strictVerifierRejectionCount() > before, { what: 'the strict verifier to reject the handshake' });
    expect(await statusOf(sessionId)).not.toBe('qr');
    expect(rogue.phones).toHaveLength(0);
    const rejected = await waitFor(async () => {
      const [row] = await gateway!.app.get((await import('typeorm')).DataSource).query(`SELECT count(*)::int AS n FROM events WHERE session_id = $1 AND type = 'qr'`, [sessionId]);
      return row.n === 0 ? row : undefined;
    });
    expect(rejected.n).toBe(0);
  });

  it('Baileys alone (strict verification off) would accept the same server', async () => {
    const sessionId = await connect({ WA_STRICT_SIGNATURES: 'false' });
    await waitFor(async () => (await statusOf(sessionId)) === 'qr', { what: 'the unverified connection to reach the QR' });
  });
});
