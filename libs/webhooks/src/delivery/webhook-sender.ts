import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import type { Agent } from 'undici';
import { ForbiddenTargetError, type WebhookUrlGuard } from '../guard/url-guard';
import { parseRetryAfter } from './retry-schedule';

const EXCERPT_BYTES = 1024;

export interface SendRequest {
  url: string;
  /** The `webhook-id`: the event id, the same on every attempt. */
  id: string;
  body: string;
  signature: (timestampSeconds: number) => string;
}

export interface SendOutcome {
  statusCode: number | null;
  responseExcerpt: string | null;
  /** Set when no HTTP answer came back (refused, timed out, forbidden target). */
  error: string | null;
  /** The receiver asked to wait (429/503 with Retry-After). */
  retryAfterMs: number | null;
  /** The target was refused by the SSRF guard. */
  forbidden: boolean;
}

/**
 * One signed POST. Never follows redirects (a redirect could point anywhere,
 * including past the SSRF guard) and reads at most ~1 KB of the answer.
 * It uses the agent's own request API rather than fetch: no WHATWG streams
 * and Request objects per delivery, and the agent's keep-alive connections
 * are reused whenever the answer was read to its end.
 */
export class WebhookSender {
  constructor(
    private readonly agent: Agent,
    private readonly guard: WebhookUrlGuard,
    private readonly timeoutMs: number,
  ) {}

  async send(request: SendRequest): Promise<SendOutcome> {
    const url = new URL(request.url);
    try {
      // IP literals are connected to without a lookup, so the agent's guard would not see them: checked here.
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      if (isIP(host)) await this.guard.resolveForConnect(host);
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        signal: AbortSignal.timeout(this.timeoutMs),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'wa-gateway-webhooks/1',
          'webhook-id': request.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': request.signature(timestamp),
        },
        body: request.body,
      });
      const responseExcerpt = await readExcerpt(response.body);
      const asksToWait = response.statusCode === 429 || response.statusCode === 503;
      const retryAfter = response.headers['retry-after'];
      return {
        statusCode: response.statusCode,
        responseExcerpt,
        error: null,
        retryAfterMs: asksToWait ? parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) : null,
        forbidden: false,
      };
    } catch (error) {
      const forbidden = findForbidden(error);
      return { statusCode: null, responseExcerpt: null, error: describe(forbidden ?? error), retryAfterMs: null, forbidden: forbidden !== null };
    }
  }
}

/** The first ~1 KB; a longer answer is cut off (which closes its connection) rather than read to the end. */
async function readExcerpt(body: Readable): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    size += buffer.byteLength;
    if (size >= EXCERPT_BYTES) break;
  }
  const text = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
  return text === '' ? null : text;
}

function findForbidden(error: unknown): ForbiddenTargetError | null {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof ForbiddenTargetError) return current;
  }
  return null;
}

/** What went wrong, from the error or (when it wraps another) its cause. */
function describe(error: unknown): string {
  if (error instanceof ForbiddenTargetError) return `WEBHOOK_URL_FORBIDDEN: ${error.message}`;
  const err = error as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT') {
    return 'timeout: no answer in time';
  }
  const cause = err.cause;
  if (cause && (cause.code || cause.message)) return `${cause.code ?? 'error'}: ${cause.message ?? ''}`.trim();
  return `${err.code ?? err.name ?? 'error'}: ${err.message ?? String(error)}`;
}
