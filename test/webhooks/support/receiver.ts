import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedRequest {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  receivedAt: number;
  headers: http.IncomingHttpHeaders;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A webhook endpoint on 127.0.0.1 as a client would run it: it records every
 * request, answers what the test says, can go down (refusing connections) and
 * come back on the same port, and dedupes by webhook-id like a careful client.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** The answer to each request; 200 by default. */
  answer: (request: ReceivedRequest) => Answer = () => ({ status: 200, body: 'ok' });
  private server?: http.Server;
  port = 0;
  /** TCP connections accepted, and the most requests that were open at once. */
  connections = 0;
  maxConcurrent = 0;
  private open = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** Requests answered 2xx, one per webhook-id (what a deduping client processes). */
  get deliveredIds(): string[] {
    return [...new Set(this.requests.filter((r) => (r as ReceivedRequest & { status?: number }).status! < 300).map((r) => r.id))];
  }

  requestsFor(id: string): Array<ReceivedRequest & { status: number }> {
    return this.requests.filter((r) => r.id === id) as Array<ReceivedRequest & { status: number }>;
  }

  async start(port = this.port): Promise<this> {
    this.server = http.createServer((req, res) => {
      this.maxConcurrent = Math.max(this.maxConcurrent, ++this.open);
      res.on('close', () => this.open--);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const request: ReceivedRequest = {
          path: req.url ?? '/',
          id: String(req.headers['webhook-id']),
          timestamp: String(req.headers['webhook-timestamp']),
          signature: String(req.headers['webhook-signature']),
          body: Buffer.concat(chunks).toString('utf8'),
          receivedAt: Date.now(),
          headers: req.headers,
        };
        const answer = this.answer(request);
        this.requests.push(Object.assign(request, { status: answer.status }));
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? '');
      });
    });
    this.server.on('connection', () => this.connections++);
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Down: new connections are refused, open ones cut. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Verifies a request with the independent standardwebhooks package; returns the parsed body. */
export function verifyWith(secret: string, request: ReceivedRequest): unknown {
  return new Webhook(secret).verify(request.body, { 'webhook-id': request.id, 'webhook-timestamp': request.timestamp, 'webhook-signature': request.signature });
}
