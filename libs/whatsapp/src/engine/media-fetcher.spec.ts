import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendErrorCode, mediaRules } from '../../../contracts/src';
import { HostResolver, OutboundUrlGuard } from '../../../outbound/src/url-guard';
import { MediaFetcher } from './media-fetcher';

describe('MediaFetcher', () => {
  const hits: string[] = [];
  const big = Buffer.alloc(600 * 1024, 7);
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits.push(req.url!);
      if (req.url === '/ok.webp') return res.writeHead(200, { 'content-type': 'image/webp' }).end(Buffer.from('RIFF-webp'));
      if (req.url === '/redirect') return res.writeHead(302, { location: '/ok.webp' }).end();
      if (req.url === '/to-metadata') return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
      if (req.url === '/big') return res.writeHead(200, { 'content-length': String(big.length) }).end(big);
      if (req.url === '/big-chunked') {
        res.writeHead(200);
        res.write(big.subarray(0, 300 * 1024));
        return res.end(big.subarray(300 * 1024));
      }
      if (req.url === '/gone') return res.writeHead(404).end();
      return res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const fetcher = (allow: string[]) => new MediaFetcher(new OutboundUrlGuard(new HostResolver(), allow, 'media URL'), { timeoutMs: 5_000, rules: mediaRules(16 * 1024 * 1024) });
  const codeOf = (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: { code?: string }) => error.code);

  it('downloads an allowed URL, following redirects', async () => {
    const f = fetcher(['127.0.0.1']);
    expect((await f.fetch(`${base}/ok.webp`, 'sticker')).toString()).toBe('RIFF-webp');
    expect((await f.fetch(`${base}/redirect`, 'sticker')).toString()).toBe('RIFF-webp');
    await f.close();
  });

  it('refuses private and metadata addresses without connecting, also behind a redirect', async () => {
    const f = fetcher([]);
    const before = hits.length;
    expect(await codeOf(f.fetch(`${base}/ok.webp`, 'sticker'))).toBe(SendErrorCode.MediaUrlRefused);
    expect(await codeOf(f.fetch('http://10.0.0.1/a.png', 'image'))).toBe(SendErrorCode.MediaUrlRefused);
    expect(await codeOf(f.fetch('file:///etc/passwd', 'document'))).toBe(SendErrorCode.MediaUrlRefused);
    expect(hits.length).toBe(before);
    const allowed = fetcher(['127.0.0.1']);
    expect(await codeOf(allowed.fetch(`${base}/to-metadata`, 'image'))).toBe(SendErrorCode.MediaUrlRefused);
    await Promise.all([f.close(), allowed.close()]);
  });

  it("stops at the type's size limit, announced or not", async () => {
    const f = fetcher(['127.0.0.1']);
    expect(await codeOf(f.fetch(`${base}/big`, 'sticker'))).toBe(SendErrorCode.MediaTooLarge);
    expect(await codeOf(f.fetch(`${base}/big-chunked`, 'sticker'))).toBe(SendErrorCode.MediaTooLarge);
    expect((await f.fetch(`${base}/big-chunked`, 'image')).equals(big)).toBe(true);
    await f.close();
  });

  it('a 4xx fails for good, a 5xx is retried later', async () => {
    const f = fetcher(['127.0.0.1']);
    expect(await codeOf(f.fetch(`${base}/gone`, 'image'))).toBe(SendErrorCode.MediaUrlRefused);
    expect(await codeOf(f.fetch(`${base}/busy`, 'image'))).toBe(SendErrorCode.MediaUnavailable);
    await f.close();
  });
});
