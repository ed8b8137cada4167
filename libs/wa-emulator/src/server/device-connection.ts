import { decodeBinaryNode, encodeBinaryNode, proto, type BinaryNode } from '../baileys';
import { FrameReader, encodeFrame } from '../noise/frame-reader';
import { NoiseResponder, type NoiseTransport } from '../noise/noise-responder';
import type { RootAuthority } from '../identity/root-authority';
import { WS_OPEN, type WsSocket } from './ws-module';

export interface ConnectionHandlers {
  /** The handshake finished: the client proved its noise key and sent its ClientPayload. */
  onClientPayload(connection: DeviceConnection, payload: proto.ClientPayload, clientNoiseKey: Buffer): void | Promise<void>;
  onNode(connection: DeviceConnection, node: BinaryNode): void | Promise<void>;
  onClose(connection: DeviceConnection): void;
  /** A node could not be handled; the connection stays up (a real server would not drop the client either). */
  onNodeError(connection: DeviceConnection, node: BinaryNode, error: unknown): void;
}

/**
 * One WebSocket from a client: the Noise handshake, then binary nodes in both
 * directions. Fault switches that act on the wire (stall, abrupt drop, stream
 * errors) live here because they are properties of this one connection.
 */
export class DeviceConnection {
  private readonly frames = new FrameReader();
  private noise: NoiseResponder | undefined;
  private transport: NoiseTransport | undefined;
  private inbound: Promise<void> = Promise.resolve();
  /** Set by the session once the device is logged in (after `<success>`). */
  ready = false;
  /** While stalled, every incoming node is ignored, pings included. */
  stalled = false;
  closed = false;
  /** Identity of the logged-in device, set by the session handler. */
  account: { phoneNumber: string; deviceId: number } | undefined;
  /** QR refs handed to a registering client, so a scan can find this connection. */
  pairingRefs: string[] = [];

  constructor(
    private readonly ws: WsSocket,
    private readonly authority: RootAuthority,
    private readonly handlers: ConnectionHandlers,
  ) {
    ws.on('message', (data) => this.receive(toBuffer(data)));
    ws.on('close', () => this.markClosed());
    ws.on('error', () => this.markClosed());
  }

  sendNode(node: BinaryNode): void {
    if (this.closed || !this.transport || this.ws.readyState !== WS_OPEN) return;
    this.ws.send(encodeFrame(this.transport.encrypt(encodeBinaryNode(node))));
  }

  /** `<stream:error>` with a code and/or a child, then a normal close. */
  streamError(attrs: Record<string, string>, child?: BinaryNode): void {
    this.sendNode({ tag: 'stream:error', attrs, content: child ? [child] : undefined });
    this.end();
  }

  failure(reason: number): void {
    this.sendNode({ tag: 'failure', attrs: { reason: String(reason) } });
    this.end();
  }

  /** Abrupt close without a close frame. */
  drop(): void {
    this.ws.terminate();
    this.markClosed();
  }

  end(): void {
    if (this.ws.readyState === WS_OPEN) this.ws.close(1000);
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    this.handlers.onClose(this);
  }

  private receive(chunk: Buffer): void {
    // Frames are handled strictly in order: decryption counters depend on it.
    this.inbound = this.inbound
      .then(async () => {
        for (const frame of this.frames.push(chunk)) await this.handleFrame(frame);
      })
      .catch(() => this.drop());
  }

  private async handleFrame(frame: Buffer): Promise<void> {
    if (this.closed) return;
    if (this.transport) {
      if (this.stalled) return;
      const node = await decodeBinaryNode(this.transport.decrypt(frame));
      try {
        await this.handlers.onNode(this, node);
      } catch (error) {
        this.handlers.onNodeError(this, node, error);
      }
      return;
    }
    const handshake = proto.HandshakeMessage.decode(frame);
    if (!this.noise) {
      if (!handshake.clientHello?.ephemeral) throw new Error('expected client hello');
      this.noise = new NoiseResponder(this.frames.introHeader ?? Buffer.alloc(0));
      const reply = this.noise.respondToHello(
        { ephemeral: handshake.clientHello.ephemeral },
        this.authority.serverStatic,
        this.authority.certificateChain,
      );
      this.ws.send(encodeFrame(reply));
      return;
    }
    if (!handshake.clientFinish) throw new Error('expected client finish');
    const { clientStatic, payload } = this.noise.readClientFinish(handshake.clientFinish);
    this.transport = this.noise.transport();
    await this.handlers.onClientPayload(this, payload, clientStatic);
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
