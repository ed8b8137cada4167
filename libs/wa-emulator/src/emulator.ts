import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RootAuthority } from './identity/root-authority';
import { handleControlRequest } from './control/control-api';
import { MediaHost } from './media/media-host';
import { EmulatorCore } from './server/emulator-core';
import { WebSocketServer, type WsServer } from './server/ws-module';
import { SimulatedPhone } from './simulated-phone';
import type { CreatePhoneInput } from './types';

export interface WaEmulatorOptions {
  /** TCP port; 0 picks a free one (default 0). */
  port?: number;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** A fixed 32-byte root private key (hex or bytes); generated when omitted. */
  rootPrivateKey?: string | Uint8Array;
}

export const WS_PATH = '/ws/chat';

/**
 * A WhatsApp Web emulator the unmodified Baileys connects to. One port serves
 * the WebSocket at `/ws/chat` and the control API under `/v1`; a second,
 * HTTPS, is the media host (`/v1/info` gives its certificate).
 */
export class WaEmulator {
  private readonly phoneHandles = new Map<string, SimulatedPhone>();

  private constructor(
    private readonly server: Server,
    private readonly wss: WsServer,
    private readonly core: EmulatorCore,
    readonly authority: RootAuthority,
    readonly url: string,
    /** HTTPS host for media uploads and downloads. */
    readonly media: MediaHost,
  ) {}

  static async start(options: WaEmulatorOptions = {}): Promise<WaEmulator> {
    const rootKey = typeof options.rootPrivateKey === 'string' ? Buffer.from(options.rootPrivateKey, 'hex') : options.rootPrivateKey;
    const authority = new RootAuthority(rootKey);
    const core = new EmulatorCore(authority);
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    // The control API needs the emulator, which needs the listening server: bind it once both exist.
    const ready: { emulator?: WaEmulator } = {};
    const server = createServer((req, res) => {
      if (ready.emulator) void handleControlRequest(ready.emulator, req, res);
      else res.writeHead(503).end();
    });
    server.on('upgrade', (req, socket, head) => {
      if (new URL(req.url ?? '/', 'http://x').pathname !== WS_PATH) {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => core.accept(ws));
    });
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const media = await MediaHost.start(host);
    core.media = media;
    ready.emulator = new WaEmulator(server, wss, core, authority, `http://${host}:${port}`, media);
    return ready.emulator;
  }

  /** Where Baileys connects: pass as `waWebSocketUrl`. */
  get wsUrl(): string {
    return `${this.url.replace(/^http/, 'ws')}${WS_PATH}`;
  }

  /** The root key the certificate chain is signed with (32 bytes). */
  get rootPublicKey(): Buffer {
    return Buffer.from(this.authority.root.public);
  }

  get rootPublicKeyHex(): string {
    return this.authority.rootPublicKeyHex;
  }

  createPhone(input: CreatePhoneInput): SimulatedPhone {
    const account = this.core.directory.create(input);
    const handle = new SimulatedPhone(account, this.core);
    this.phoneHandles.set(account.phoneNumber, handle);
    return handle;
  }

  /** The handle of an existing phone; throws when unknown. */
  phone(phoneNumber: string): SimulatedPhone {
    const account = this.core.directory.require(phoneNumber);
    return this.phoneHandles.get(account.phoneNumber)!;
  }

  get phones(): SimulatedPhone[] {
    return [...this.phoneHandles.values()];
  }

  /** Open client connections (handshaking, registering or logged in). */
  get connectionCount(): number {
    return this.core.connections.size;
  }

  /** Nodes from clients the emulator failed to handle (most recent 100); empty in a healthy run. */
  get nodeErrors(): ReadonlyArray<{ tag: string; xmlns?: string; error: string; at: string }> {
    return this.core.nodeErrors;
  }

  async close(): Promise<void> {
    this.core.close();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.media.close();
  }
}
