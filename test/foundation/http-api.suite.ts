import { randomUUID } from 'node:crypto';
import { authHeaders, InProcessGateway, startGateway } from '../support/gateway';

const json = { 'content-type': 'application/json' };

/** The HTTP contract of the foundation, run against each database. */
export function httpApiSuite(env: () => Promise<Record<string, string>>): void {
  let gw: InProcessGateway;
  const call = (path: string, init: RequestInit = {}) => fetch(`${gw.url}${path}`, init);
  const admin = (path: string, init: RequestInit = {}) => call(path, { ...init, headers: { ...json, ...authHeaders(), ...(init.headers as object) } });

  beforeAll(async () => {
    gw = await startGateway({ ...(await env()), RATE_LIMIT_MAX: '40', RATE_LIMIT_WINDOW_MS: '60000', BODY_LIMIT_BYTES: '4096', WEBHOOK_ALLOW_PRIVATE_HOSTS: 'localhost' });
  });
  afterAll(async () => gw?.close());

  describe('operations', () => {
    it('/health and /ready answer without a key', async () => {
      expect((await call('/health')).status).toBe(200);
      const ready = await call('/ready');
      expect(ready.status).toBe(200);
      expect((await ready.json() as any).details.database.status).toBe('up');
    });

    it('/metrics exposes process metrics and every product metric name', async () => {
      const text = await (await call('/metrics')).text();
      for (const name of ['process_cpu_user_seconds_total', 'jobs_processed_total', 'jobs_failed_total', 'socket_status', 'messages_sent_total', 'messages_failed_total', 'queue_size', 'webhook_deliveries_total', 'reconnects_total']) {
        expect(text).toContain(`# TYPE ${name}`);
      }
    });

    it('/metrics counts HTTP requests by method, route pattern and status', async () => {
      const unknownId = '00000000-0000-4000-8000-000000000000';
      expect((await admin(`/connections/${unknownId}/messages/nope`)).status).toBe(404);
      expect((await call('/no-such-route')).status).toBe(404);
      const text = await (await call('/metrics')).text();
      const count = (labels: string) => Number(new RegExp(`^http_request_duration_seconds_count\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      expect(count('method="GET",route="/connections/:id/messages/:messageId",status="404"')).toBeGreaterThanOrEqual(1);
      expect(count('method="GET",route="\\(unmatched\\)",status="404"')).toBeGreaterThanOrEqual(1);
      expect(text).not.toContain(unknownId);
    });

    it('/docs/json describes the routes', async () => {
      const doc = await (await call('/docs/json')).json() as any;
      expect(doc.openapi).toMatch(/^3\./);
      for (const path of ['/connections', '/connections/{id}', '/api-keys', '/api-keys/{keyId}', '/health', '/ready']) expect(Object.keys(doc.paths)).toContain(path);
      // The send route validates with its own pipes: its body and query are still documented.
      const send = doc.paths['/connections/{id}/send']?.post;
      expect(send?.requestBody?.content?.['application/json']?.schema?.$ref).toMatch(/SendMessageDto$/);
      expect(send?.parameters?.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['id', 'wait']));
      expect((await call('/docs')).status).toBe(200);
    });

    it('echoes a client x-request-id and generates one otherwise', async () => {
      expect((await call('/health', { headers: { 'x-request-id': 'abc-123' } })).headers.get('x-request-id')).toBe('abc-123');
      expect((await call('/health')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('auth', () => {
    it('401 without a key, with a wrong key, as a problem document', async () => {
      for (const headers of [{}, { authorization: 'Bearer nope-nope-nope' }, { 'x-api-key': 'nope' }] as Array<Record<string, string>>) {
        const res = await call('/connections', { headers });
        expect(res.status).toBe(401);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(await res.json() as any).toMatchObject({ status: 401, code: 'UNAUTHORIZED', title: 'Unauthorized' });
      }
    });

    it('accepts the admin key as Bearer or x-api-key', async () => {
      expect((await call('/connections', { headers: authHeaders() })).status).toBe(200);
      expect((await call('/connections', { headers: { 'x-api-key': 'test-admin-key-0123456789abcdef' } })).status).toBe(200);
    });

    it('scoped keys reach only their connection; admin routes need an admin key; revocation is immediate', async () => {
      const a = await (await admin('/connections', { method: 'POST', body: JSON.stringify({ label: 'A' }) })).json() as any;
      const b = await (await admin('/connections', { method: 'POST', body: JSON.stringify({ label: 'B' }) })).json() as any;
      const created = await admin('/api-keys', { method: 'POST', body: JSON.stringify({ name: 'shop-a', role: 'connection', sessionId: a.sessionId }) });
      expect(created.status).toBe(201);
      const scoped = await created.json() as any;
      expect(scoped.key).toMatch(/^wak_/);
      const asScoped = (path: string, init: RequestInit = {}) => call(path, { ...init, headers: { ...json, ...authHeaders(scoped.key) } });

      expect((await asScoped(`/connections/${a.sessionId}`)).status).toBe(200);
      const other = await asScoped(`/connections/${b.sessionId}`);
      expect(other.status).toBe(403);
      expect((await other.json() as any).code).toBe('FORBIDDEN');
      const listed = await (await asScoped('/connections')).json() as any;
      expect(listed.items.map((i: { sessionId: string }) => i.sessionId)).toEqual([a.sessionId]);
      expect((await asScoped('/api-keys')).status).toBe(403);
      expect((await asScoped('/connections', { method: 'POST', body: '{}' })).status).toBe(403);

      const keys = await (await admin('/api-keys')).json() as any;
      expect(keys.items.find((k: { id: string }) => k.id === scoped.id)).toMatchObject({ name: 'shop-a', role: 'connection', sessionId: a.sessionId });
      expect(JSON.stringify(keys)).not.toContain(scoped.key);

      expect((await admin(`/api-keys/${scoped.id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await asScoped(`/connections/${a.sessionId}`)).status).toBe(401);
      expect((await admin(`/api-keys/${scoped.id}`, { method: 'DELETE' })).status).toBe(404);
    });

    it('a connection key needs an existing connection', async () => {
      const res = await admin('/api-keys', { method: 'POST', body: JSON.stringify({ name: 'x', role: 'connection', sessionId: randomUUID() }) });
      expect(res.status).toBe(404);
      expect((await res.json() as any).code).toBe('SESSION_NOT_FOUND');
      const missing = await admin('/api-keys', { method: 'POST', body: JSON.stringify({ name: 'x', role: 'connection' }) });
      expect(missing.status).toBe(400);
    });
  });

  describe('problem documents', () => {
    it('400 lists the failing fields', async () => {
      const res = await admin('/connections', { method: 'POST', body: JSON.stringify({ label: 5, webhookUrl: 'not a url', extra: true, config: { pacing: { messagesPerMinute: -1 } } }) });
      expect(res.status).toBe(400);
      const problem = await res.json() as any;
      expect(problem.code).toBe('VALIDATION_FAILED');
      const fields = problem.errors.map((e: { field: string }) => e.field);
      expect(fields).toEqual(expect.arrayContaining(['label', 'webhookUrl', 'extra', 'config.pacing.messagesPerMinute']));
    });

    it('400 on malformed JSON, 404 on unknown routes and ids, 413 on a large body, 415 on another content type', async () => {
      const malformed = await admin('/connections', { method: 'POST', body: '{"label":' });
      expect(malformed.status).toBe(400);
      const route = await admin('/no-such-route');
      expect(route.status).toBe(404);
      expect((await route.json() as any).code).toBe('ROUTE_NOT_FOUND');
      const id = await admin(`/connections/${randomUUID()}`);
      expect(id.status).toBe(404);
      expect((await id.json() as any).code).toBe('SESSION_NOT_FOUND');
      expect((await admin('/connections/not-a-uuid')).status).toBe(404);
      const large = await admin('/connections', { method: 'POST', body: JSON.stringify({ label: 'x'.repeat(5000) }) });
      expect(large.status).toBe(413);
      expect((await large.json() as any).code).toBe('PAYLOAD_TOO_LARGE');
      const text = await admin('/connections', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
      expect(text.status).toBe(415);
      expect((await text.json() as any).code).toBe('UNSUPPORTED_MEDIA_TYPE');
      const xml = await admin('/connections', { method: 'POST', body: '<a/>', headers: { 'content-type': 'application/xml' } });
      expect(xml.status).toBe(415);
    });

    it('reads an empty or blank JSON body as no body, not as malformed JSON', async () => {
      for (const body of ['', ' \n\t ']) {
        const restart = await admin(`/connections/${randomUUID()}/restart`, { method: 'POST', body });
        expect(restart.status).toBe(404);
        expect((await restart.json() as any).code).toBe('SESSION_NOT_FOUND');
      }
      const created = await admin('/connections', { method: 'POST', body: ' \n' });
      expect(created.status).toBe(201);
    });

    it('never answers 5xx to odd input', async () => {
      const odd = [
        admin('/connections?limit=abc'),
        admin('/connections?cursor=%%%'),
        admin('/connections?cursor=eyJ4Ijo'),
        admin('/connections', { method: 'POST', body: 'null' }),
        admin('/connections', { method: 'POST', body: '[]' }),
        admin('/connections', { method: 'POST', body: '"str"' }),
        admin(`/connections/${randomUUID()}`, { method: 'PATCH', body: '{}' }),
        admin('/api-keys/zzz', { method: 'DELETE' }),
      ];
      for (const res of await Promise.all(odd)) expect(res.status).toBeLessThan(500);
    });

    it('connections: create, get, list with a cursor, patch, delete', async () => {
      const created = await admin('/connections', { method: 'POST', body: JSON.stringify({ label: 'Loja A - 1', config: { pacing: { messagesPerMinute: 10 } } }) });
      expect(created.status).toBe(201);
      const c = await created.json() as any;
      expect(c).toMatchObject({ label: 'Loja A - 1', status: 'created' });
      expect(Date.parse(c.createdAt)).not.toBeNaN();
      const patched = await (await admin(`/connections/${c.sessionId}`, { method: 'PATCH', body: JSON.stringify({ label: 'B', webhookUrl: 'http://localhost:9/h' }) })).json() as any;
      expect(patched).toMatchObject({ label: 'B', webhookUrl: 'http://localhost:9/h', config: { pacing: { messagesPerMinute: 10 } } });
      const page1 = await (await admin('/connections?limit=1')).json() as any;
      expect(page1.items).toHaveLength(1);
      expect(page1.nextCursor).toEqual(expect.any(String));
      const page2 = await (await admin(`/connections?limit=1&cursor=${page1.nextCursor}`)).json() as any;
      expect(page2.items[0].sessionId).not.toBe(page1.items[0].sessionId);
      expect((await admin(`/connections/${c.sessionId}`, { method: 'DELETE' })).status).toBe(204);
      expect((await admin(`/connections/${c.sessionId}`)).status).toBe(404);
    });

    it('429 with a problem document once a key exceeds its rate', async () => {
      let limited: Response | undefined;
      for (let i = 0; i < 60 && !limited; i++) {
        const res = await call('/connections', { headers: authHeaders() });
        if (res.status === 429) limited = res;
      }
      expect(limited).toBeDefined();
      expect(limited!.headers.get('content-type')).toContain('application/problem+json');
      expect(await limited!.json() as any).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect(limited!.headers.get('retry-after')).toBeTruthy();
      // Health probes are never rate limited.
      expect((await call('/health')).status).toBe(200);
    });
  });
}
