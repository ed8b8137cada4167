import { randomUUID } from 'node:crypto';
import { EventBus } from '../../libs/events/src';
import { authHeaders } from '../support/gateway';
import { waitFor } from '../support/services';
import { WebhookHarness } from './support/gateway-harness';
import { verifyWith, WebhookReceiver } from './support/receiver';
import { openStream, type SseStream } from './support/sse-client';

describe('live event streams and connection webhooks', () => {
  let h: WebhookHarness;
  let receiver: WebhookReceiver;
  const streams: SseStream[] = [];

  const open = async (path: string, key?: string) => {
    const stream = await openStream(`${h.gw.url}${path}`, authHeaders(key));
    streams.push(stream);
    return stream;
  };

  const createConnection = async (body: Record<string, unknown> = {}) => {
    const response = await h.request('POST', '/connections', { label: 'webhooks', ...body });
    expect(response.status).toBe(201);
    return response.body as { sessionId: string; webhookSecret?: string };
  };

  beforeAll(async () => {
    // A short failure window so the "failing for too long" rule can be seen.
    h = await WebhookHarness.start({ WEBHOOK_DISABLE_AFTER_MS: '400', WEBHOOK_RETRY_SCHEDULE: '0,100,100,100,100,100,100,100,100,100,100,100' });
    receiver = await new WebhookReceiver().start();
  });

  afterAll(async () => {
    for (const stream of streams) stream.close();
    await h?.cleanup();
    await h?.close();
    await receiver?.stop();
  });

  it('streams a connection’s events, and only its own, as SSE', async () => {
    const a = await createConnection();
    const b = await createConnection();
    const stream = await open(`/connections/${a.sessionId}/events`);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toContain('text/event-stream');
    const bus = h.gw.app.get(EventBus);
    const mine = h.event({ sessionId: a.sessionId });
    const theirs = h.event({ sessionId: b.sessionId });
    await bus.publish(theirs);
    await bus.publish(mine);
    await waitFor(() => stream.frames.some((f) => f.id === mine.id), { what: 'the event on the stream' });
    const frame = stream.frames.find((f) => f.id === mine.id)!;
    expect(frame.event).toBe('message.received');
    expect(JSON.parse(frame.data!)).toEqual({ event: 'message.received', sessionId: a.sessionId, timestamp: mine.timestamp, payload: mine.payload });
    expect(stream.frames.some((f) => f.id === theirs.id)).toBe(false);
    expect(stream.frames.every((f) => JSON.parse(f.data!).sessionId === a.sessionId)).toBe(true);
  });

  it('streams every connection’s events to an admin, filtered by ?types=', async () => {
    const stream = await open('/events?types=message.status,connection.status');
    const skipped = h.event();
    const wanted = h.event({}, 'message.status');
    await h.bus.publish(skipped);
    await h.bus.publish(wanted);
    await waitFor(() => stream.frames.some((f) => f.id === wanted.id), { what: 'the status event' });
    expect(stream.frames.some((f) => f.id === skipped.id)).toBe(false);
    expect((await h.request('GET', '/events?types=bogus')).status).toBe(400);
  });

  it('refuses another connection’s stream to a scoped key (403) and an unknown connection (404), as problem documents', async () => {
    const a = await createConnection();
    const b = await createConnection();
    const created = await h.request('POST', '/api-keys', { name: 'scoped', role: 'connection', sessionId: a.sessionId });
    const key = created.body.key as string;
    const denied = await open(`/connections/${b.sessionId}/events`, key);
    expect(denied.status).toBe(403);
    expect(denied.headers['content-type']).toContain('application/problem+json');
    expect((await open('/events', key)).status).toBe(403);
    const own = await open(`/connections/${a.sessionId}/events`, key);
    expect(own.status).toBe(200);
    const missing = await open(`/connections/${randomUUID()}/events`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body()).code).toBe('SESSION_NOT_FOUND');
    expect((await open(`/connections/${a.sessionId}/events`, 'wrong-key')).status).toBe(401);
  });

  it('gives a connection’s webhookUrl a secret once, keeps it across a URL change, and lists it at /webhooks', async () => {
    const connection = await createConnection({ webhookUrl: `${receiver.url}/first` });
    expect(connection.webhookSecret).toMatch(/^whsec_/);
    const first = h.event({ sessionId: connection.sessionId });
    await h.bus.publish(first);
    await waitFor(() => receiver.requestsFor(first.id).length === 1, { what: 'the delivery to the connection webhook' });
    expect(receiver.requestsFor(first.id)[0].path).toBe('/hooks/first');
    expect(verifyWith(connection.webhookSecret!, receiver.requestsFor(first.id)[0])).toMatchObject({ sessionId: connection.sessionId });

    const patched = await h.request('PATCH', `/connections/${connection.sessionId}`, { webhookUrl: `${receiver.url}/second` });
    expect(patched.status).toBe(200);
    expect(patched.body.webhookSecret).toBeUndefined();
    const second = h.event({ sessionId: connection.sessionId });
    await h.bus.publish(second);
    await waitFor(() => receiver.requestsFor(second.id).length === 1, { what: 'the delivery to the new URL' });
    expect(receiver.requestsFor(second.id)[0].path).toBe('/hooks/second');
    expect(verifyWith(connection.webhookSecret!, receiver.requestsFor(second.id)[0])).toMatchObject({ sessionId: connection.sessionId });

    const listed = await h.request('GET', `/webhooks?sessionId=${connection.sessionId}`);
    expect(listed.body.items).toEqual([expect.objectContaining({ kind: 'connection', sessionId: connection.sessionId, url: `${receiver.url}/second`, events: [] })]);
    const id = listed.body.items[0].id as string;
    expect((await h.request('DELETE', `/webhooks/${id}`)).body.code).toBe('WEBHOOK_MANAGED_BY_CONNECTION');
    expect((await h.request('PATCH', `/connections/${connection.sessionId}`, { webhookUrl: 'http://10.0.0.1/x' })).body.code).toBe('WEBHOOK_URL_FORBIDDEN');

    // Other connections' events do not reach it.
    const other = h.event();
    await h.bus.publish(other);
    const removed = await h.request('PATCH', `/connections/${connection.sessionId}`, { webhookUrl: null });
    expect(removed.status).toBe(200);
    expect((await h.request('GET', `/webhooks?sessionId=${connection.sessionId}`)).body.items).toEqual([]);
    expect(receiver.requests.filter((r) => r.path.startsWith('/hooks/')).map((r) => r.id)).not.toContain(other.id);
  });

  it('disables an endpoint whose every delivery has failed for the configured period and records webhook.disabled', async () => {
    // Only this test's event type: the file's connections publish status events, which would be deliveries of their own to this endpoint.
    const sub = await h.subscribe(`${receiver.url}/broken`, { events: ['message.received'] });
    receiver.answer = (r) => (r.path === '/hooks/broken' ? { status: 502 } : { status: 200 });
    const event = h.event();
    await h.bus.publish(event);
    await waitFor(async () => (await h.request('GET', `/webhooks/${sub.id}`)).body.state === 'disabled', { what: 'the subscription to be disabled' });
    const view = (await h.request('GET', `/webhooks/${sub.id}`)).body;
    expect(view.disabledReason).toMatch(/failed since/);
    const [delivery] = await h.deliveries(sub.id);
    expect(delivery.state).toBe('disabled');
    expect(delivery.attempts).toBeGreaterThanOrEqual(2);
    const audit = await h.dataSource.query(`SELECT detail FROM events WHERE type = 'webhook.disabled' AND detail->>'subscriptionId' = $1`, [sub.id]);
    expect(audit).toEqual([{ detail: expect.objectContaining({ kind: 'global', url: `${receiver.url}/broken`, reason: expect.stringMatching(/failed since/) }) }]);

    // Re-enabled and replayed once the endpoint works again.
    receiver.answer = () => ({ status: 200 });
    expect((await h.request('POST', `/webhooks/${sub.id}/enable`)).body.state).toBe('active');
    expect((await h.request('POST', `/webhooks/${sub.id}/deliveries/${delivery.id}/replay`)).status).toBe(202);
    await h.untilDelivery(sub.id, event.id, (d) => d.state === 'succeeded', 'the replayed delivery');
    expect(new Set(receiver.requestsFor(event.id).map((r) => r.id)).size).toBe(1);
  });
});
