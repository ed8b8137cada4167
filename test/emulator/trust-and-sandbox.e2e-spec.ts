import { createServer } from 'node:net';
import { Curve } from '@whiskeysockets/baileys';
import { WaEmulator } from '../../libs/wa-emulator/src';
import {
  connectToSandbox,
  restoreProductionTrustRoot,
  SandboxNotConfiguredError,
} from '../../libs/whatsapp/src/sandbox';
import {
  installStrictSignatureVerifier,
  uninstallStrictSignatureVerifier,
  verifyXEdDSA,
  type SignatureRejection,
} from '../../libs/whatsapp/src/security';
import { waitFor } from '../support/services';
import { GatewayClient, muteLibsignalConsole, trustRoot } from './support/gateway-client';
import { linkByQr } from './support/linking';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('strict signature verifier', () => {
  it('accepts libsignal signatures and rejects tampered ones', () => {
    const pair = Curve.generateKeyPair();
    const message = Buffer.from('certificate details');
    const signature = Curve.sign(pair.private, message);
    expect(verifyXEdDSA(pair.public, message, signature)).toBe(true);
    expect(verifyXEdDSA(Buffer.concat([Buffer.from([5]), pair.public]), message, signature)).toBe(true);
    expect(verifyXEdDSA(pair.public, Buffer.from('certificate detailz'), signature)).toBe(false);
    const flipped = Buffer.from(signature);
    flipped[10] ^= 1;
    expect(verifyXEdDSA(pair.public, message, flipped)).toBe(false);
    expect(verifyXEdDSA(Curve.generateKeyPair().public, message, signature)).toBe(false);
    expect(verifyXEdDSA(pair.public, message, Buffer.alloc(63))).toBe(false);
  });

  it('documents the gap it closes: Baileys rc14 accepts any well-formed signature', () => {
    const message = Buffer.from('anything');
    expect(Curve.verify(Curve.generateKeyPair().public, message, Buffer.alloc(64, 7))).toBe(true);
  });
});

describe('emulator under a strict verifier, and the sandbox connector', () => {
  let emulator: WaEmulator;
  let previousRoot: Buffer;
  const rejections: SignatureRejection[] = [];
  const clients: GatewayClient[] = [];

  beforeAll(async () => {
    emulator = await WaEmulator.start({ port: 0 });
    previousRoot = trustRoot(emulator.rootPublicKey);
    muteLibsignalConsole();
    installStrictSignatureVerifier({ onRejection: (r) => rejections.push(r) });
  });

  afterAll(async () => {
    uninstallStrictSignatureVerifier();
    for (const c of clients) c.stop();
    await emulator.close();
    trustRoot(previousRoot);
  });

  beforeEach(() => {
    rejections.length = 0;
    trustRoot(emulator.rootPublicKey);
  });

  it('passes: certificate chain, pairing and messages verify strictly', async () => {
    const phone = emulator.createPhone({ phoneNumber: '5511970000001' });
    const bob = emulator.createPhone({ phoneNumber: '5511970000002' });
    const client = await linkByQr(emulator, phone);
    clients.push(client);
    const sent = await client.sock.sendMessage(bob.jid, { text: 'strictly verified' });
    await waitFor(() => bob.messages.some((m) => m.id === sent!.key.id), { what: 'message stored' });
    expect(rejections).toEqual([]);
  });

  it('rejects a server whose chain is signed by an untrusted root, and reports it', async () => {
    const rogue = await WaEmulator.start({ port: 0 });
    try {
      const client = new GatewayClient(rogue.wsUrl).start();
      clients.push(client);
      await waitFor(() => client.lastClose, { what: 'handshake refused' });
      expect(client.events.qrs).toHaveLength(0);
      expect(client.lastClose.message).toMatch(/certificate signature invalid/);
      expect(rejections.some((r) => r.check === 'trust-root' && r.reason === 'invalid-signature')).toBe(true);
    } finally {
      await rogue.close();
    }
  });

  it('without the strict verifier the rogue server is accepted (why it exists)', async () => {
    uninstallStrictSignatureVerifier();
    const rogue = await WaEmulator.start({ port: 0 });
    try {
      const client = new GatewayClient(rogue.wsUrl).start();
      clients.push(client);
      await waitFor(() => client.events.qrs[0], { what: 'QR from a rogue server' });
      client.stop();
    } finally {
      await rogue.close();
      installStrictSignatureVerifier({ onRejection: (r) => rejections.push(r) });
    }
  });

  it('sandbox connector refuses to run without a sandbox URL', async () => {
    await expect(connectToSandbox({ sandboxUrl: undefined })).rejects.toBeInstanceOf(SandboxNotConfiguredError);
    await expect(connectToSandbox({ sandboxUrl: '' })).rejects.toBeInstanceOf(SandboxNotConfiguredError);
  });

  it('sandbox connector waits for the emulator, installs its root and returns the socket URL', async () => {
    restoreProductionTrustRoot();
    const port = await freePort();
    const connecting = connectToSandbox({ sandboxUrl: `http://127.0.0.1:${port}`, retryIntervalMs: 50, timeoutMs: 10_000 });
    let late: WaEmulator | undefined;
    try {
      late = await WaEmulator.start({ port });
      const connection = await connecting;
      expect(connection.waWebSocketUrl).toBe(late.wsUrl);
      expect(connection.rootPublicKey.equals(late.rootPublicKey)).toBe(true);
      const phone = late.createPhone({ phoneNumber: '5511970000003' });
      const client = await linkByQr(late, phone);
      clients.push(client);
      expect(rejections).toEqual([]);
      client.stop();
    } finally {
      await late?.close();
    }
  });

  it('sandbox connector gives up with a clear error when nothing answers', async () => {
    const port = await freePort();
    await expect(connectToSandbox({ sandboxUrl: `http://127.0.0.1:${port}`, retryIntervalMs: 20, timeoutMs: 200 })).rejects.toThrow(/did not answer/);
  });
});
