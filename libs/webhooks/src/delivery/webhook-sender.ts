import { isIP } from 'node:net';
import { fetch, type Agent } from 'undici';
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
      const response = await fetch(url, {
        method: 'POST',
        dispatcher: this.agent,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
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
      const asksToWait = response.status === 429 || response.status === 503;
      return {
        statusCode: response.status,
        responseExcerpt,
        error: null,
        retryAfterMs: asksToWait ? parseRetryAfter(response.headers.get('retry-after')) : null,
        forbidden: false,
      };
    } catch (error) {
      const forbidden = findForbidden(error);
      return { statusCode: null, responseExcerpt: null, error: describe(forbidden ?? error), retryAfterMs: null, forbidden: forbidden !== null };
    }
  }
}

async function readExcerpt(body: ReadableStream<Uint8Array> | null): Promise<string | null> {
  if (!body) return null;
  const reader = body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    while (size < EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
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

/** fetch wraps network errors in a generic TypeError; the cause says what happened. */
function describe(error: unknown): string {
  if (error instanceof ForbiddenTargetError) return `WEBHOOK_URL_FORBIDDEN: ${error.message}`;
  const err = error as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timeout: no answer in time';
  const cause = err.cause;
  if (cause && (cause.code || cause.message)) return `${cause.code ?? 'error'}: ${cause.message ?? ''}`.trim();
  return `${err.code ?? err.name ?? 'error'}: ${err.message ?? String(error)}`;
}
