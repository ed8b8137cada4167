/**
 * The `ws` package without @types/ws: only the members the emulator uses,
 * typed here. Loaded with require() so no ambient module declaration leaks
 * into the rest of the project.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';

export interface WsSocket {
  readonly readyState: number;
  send(data: Uint8Array, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[]) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

export interface WsServer {
  readonly clients: Set<WsSocket>;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WsSocket) => void): void;
  close(cb?: () => void): void;
}

interface WsModule {
  WebSocketServer: new (options: { noServer: true; perMessageDeflate?: boolean } | { server: HttpServer }) => WsServer;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const { WebSocketServer } = require('ws') as WsModule;

export const WS_OPEN = 1;
