import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';

/** Larger than any media type's limit (documents: 100 MiB); the client checks its own. */
const MAX_UPLOAD_BYTES = 128 * 1024 * 1024;
const UPLOAD_PATH = /^\/mms\/([a-z-]+)\/([A-Za-z0-9_-]+)$/;
const DOWNLOAD_PATH = /^\/v\/emulator\/([0-9a-f]{32})\.enc$/;

/** What Baileys' `media_conn` query is answered with. */
export interface MediaConnInfo {
  /** host:port, as Baileys puts it into `https://${hostname}/mms/...`. */
  hostname: string;
  auth: string;
  ttlSeconds: number;
  maxContentLengthBytes: number;
}

export interface StoredUpload {
  mediaType: string;
  /** The encrypted file as uploaded (ciphertext and its 10-byte MAC). */
  bytes: Buffer;
}

/**
 * The emulator's media server: Baileys uploads encrypted media here (HTTPS,
 * as it always does) after asking the emulator for `media_conn`, and gets a
 * `direct_path` that is served back by GET. The certificate is self-signed,
 * made at start; clients trust it through `/v1/info` (`mediaCaCert`).
 */
export class MediaHost {
  private readonly uploads = new Map<string, StoredUpload>();

  private constructor(
    private readonly server: Server,
    readonly hostname: string,
    readonly caCert: string,
    readonly auth: string,
  ) {}

  static async start(host: string): Promise<MediaHost> {
    const pems = await generate([{ name: 'commonName', value: 'wa-emulator media host' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: host }] },
      ],
    });
    const ready: { host?: MediaHost } = {};
    const server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
      if (ready.host) void ready.host.handle(req, res);
      else res.writeHead(503).end();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    ready.host = new MediaHost(server, `${host}:${port}`, pems.cert, randomBytes(16).toString('base64url'));
    return ready.host;
  }

  get mediaConn(): MediaConnInfo {
    return { hostname: this.hostname, auth: this.auth, ttlSeconds: 3600, maxContentLengthBytes: MAX_UPLOAD_BYTES };
  }

  /** The upload a `directPath` (or a full media URL) names; undefined when it names none of ours. */
  find(directPathOrUrl: string): StoredUpload | undefined {
    const path = new URL(directPathOrUrl, `https://${this.hostname}`).pathname;
    const id = DOWNLOAD_PATH.exec(path)?.[1];
    return id ? this.uploads.get(id) : undefined;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `https://${this.hostname}`);
    const upload = UPLOAD_PATH.exec(url.pathname);
    if (req.method === 'POST' && upload) return this.receive(req, res, upload[1], upload[2], url.searchParams.get('auth'));
    const download = DOWNLOAD_PATH.exec(url.pathname);
    const stored = download ? this.uploads.get(download[1]) : undefined;
    if (req.method === 'GET' && stored) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': stored.bytes.length }).end(stored.bytes);
      return;
    }
    reply(res, 404, { error: 'not found' });
  }

  private async receive(req: IncomingMessage, res: ServerResponse, mediaType: string, token: string, auth: string | null): Promise<void> {
    if (auth !== this.auth) return reply(res, 401, { error: 'bad auth' });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_UPLOAD_BYTES) return reply(res, 413, { error: 'too large' });
      chunks.push(chunk as Buffer);
    }
    const bytes = Buffer.concat(chunks);
    // The token is the file's encrypted SHA-256 (base64url): a corrupted upload is refused, as WhatsApp does.
    if (createHash('sha256').update(bytes).digest('base64url') !== token) return reply(res, 400, { error: 'token does not match the uploaded file' });
    const { url, directPath } = this.store(mediaType, bytes);
    reply(res, 200, { url, direct_path: directPath });
  }

  /** Keeps an encrypted file (an upload, or media a simulated phone sends) and names where it is served. */
  store(mediaType: string, bytes: Buffer): { url: string; directPath: string } {
    const id = randomBytes(16).toString('hex');
    this.uploads.set(id, { mediaType, bytes });
    const directPath = `/v/emulator/${id}.enc`;
    return { url: `https://${this.hostname}${directPath}`, directPath };
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
