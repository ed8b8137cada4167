import { request, type Dispatcher } from 'undici';
import { SendError, SendErrorCode, type MediaRule, type MediaType } from '../../../contracts/src';
import { ForbiddenTargetError, type OutboundUrlGuard } from '../../../outbound/src/url-guard';
import { createPinnedAgent } from '../../../outbound/src/pinned-agent';

const MAX_REDIRECTS = 5;
/** Answers a client cannot fix by waiting: the send is failed at once rather than retried. */
const isPermanentStatus = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

export interface MediaFetchSettings {
  /** Whole download, redirects included. */
  timeoutMs: number;
  /** Size limits per media type (`mediaRules`). */
  rules: Record<MediaType, MediaRule>;
}

/**
 * Downloads the media a send names by URL, for the engine to encrypt and
 * upload. The URL is the client's: every hop (redirects too) passes the SSRF
 * guard, the connection goes to the address the guard checked (pinned
 * agent), and the body is cut off past the type's size limit instead of being
 * read whole. Refusals and 4xx answers fail the send for good
 * (`MEDIA_URL_REFUSED`, `MEDIA_TOO_LARGE`); timeouts, 5xx and network errors
 * are `MEDIA_UNAVAILABLE` and retried.
 */
export class MediaFetcher {
  private readonly agent: Dispatcher;

  constructor(
    private readonly guard: OutboundUrlGuard,
    private readonly settings: MediaFetchSettings,
  ) {
    this.agent = createPinnedAgent(guard, { connectionsPerOrigin: 8, connectTimeoutMs: settings.timeoutMs });
  }

  async fetch(raw: string, type: MediaType): Promise<Buffer> {
    const maxBytes = this.settings.rules[type].maxBytes;
    const signal = AbortSignal.timeout(this.settings.timeoutMs);
    let target = raw;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const url = await this.checked(target);
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, { dispatcher: this.agent, method: 'GET', signal });
      } catch (error) {
        throw this.fromNetworkError(raw, error);
      }
      const { statusCode, headers, body } = response;
      const location = headers.location;
      if (statusCode >= 300 && statusCode < 400 && typeof location === 'string') {
        await body.dump();
        target = new URL(location, url).toString();
        continue;
      }
      if (statusCode < 200 || statusCode >= 300) {
        await body.dump();
        const code = isPermanentStatus(statusCode) ? SendErrorCode.MediaUrlRefused : SendErrorCode.MediaUnavailable;
        throw new SendError(code, `media URL ${raw} answered ${statusCode}`);
      }
      const declared = Number(headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        await body.dump({ limit: 0 }).catch(() => undefined);
        throw tooLarge(raw, maxBytes);
      }
      return this.readAtMost(raw, body, maxBytes);
    }
    throw new SendError(SendErrorCode.MediaUrlRefused, `media URL ${raw} redirects more than ${MAX_REDIRECTS} times`);
  }

  private async checked(target: string): Promise<URL> {
    try {
      return await this.guard.check(target);
    } catch (error) {
      if (error instanceof ForbiddenTargetError) throw new SendError(SendErrorCode.MediaUrlRefused, error.message);
      throw error;
    }
  }

  private async readAtMost(raw: string, body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          body.destroy();
          throw tooLarge(raw, maxBytes);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof SendError) throw error;
      throw this.fromNetworkError(raw, error);
    }
    return Buffer.concat(chunks, size);
  }

  private fromNetworkError(raw: string, error: unknown): SendError {
    // The pinned agent's lookup raises the guard's refusal when a name re-resolves to a forbidden address.
    const cause = (error as { cause?: unknown }).cause ?? error;
    if (cause instanceof ForbiddenTargetError || error instanceof ForbiddenTargetError) {
      return new SendError(SendErrorCode.MediaUrlRefused, (cause as Error).message);
    }
    return new SendError(SendErrorCode.MediaUnavailable, `media URL ${raw} could not be downloaded: ${(error as Error).message}`);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

function tooLarge(raw: string, maxBytes: number): SendError {
  return new SendError(SendErrorCode.MediaTooLarge, `media at ${raw} is larger than ${maxBytes} bytes`);
}
