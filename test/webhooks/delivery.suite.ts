import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { MessageQueue } from '../../libs/queue/src';
import {
  deliveryBody,
  DeliveryReconciler,
  DeliveryStore,
  fanoutJobId,
  RECONCILE_GRACE_MS,
  SubscriptionsService,
  WEBHOOK_FANOUT_QUEUE,
} from '../../libs/webhooks/src';
import { waitFor } from '../support/services';
import { TEST_SCHEDULE_MS, WebhookHarness } from './support/gateway-harness';
import { verifyWith, WebhookReceiver } from './support/receiver';

/** WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT when unset. */
const DEFAULT_MAX_IN_FLIGHT_PER_ENDPOINT = 10;

/** Gaps between consecutive requests, ms. */
const gapsOf = (times: number[]) => times.slice(1).map((t, i) => t - times[i]);

/**
 * Durable, signed webhook delivery through the whole gateway: the same suite
 * runs embedded (PGlite + database queue) and distributed (PostgreSQL + BullMQ).
 */
export function webhookDeliverySuite(startHarness: () => Promise<WebhookHarness>): void {
  let h: WebhookHarness;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    h = await startHarness();
  });

  beforeEach(async () => {
    receiver = await new WebhookReceiver().start();
  });

  afterEach(async () => {
    await h.cleanup();
    await receiver.stop();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('signs every delivery per Standard Webhooks (verified by the standardwebhooks package) with the documented body', async () => {
    const sub = await h.subscribe(receiver.url);
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/]{40,}={0,2}$/);
    const event = h.event();
    await h.bus.publish(event);
    await waitFor(() => receiver.requestsFor(event.id).length === 1, { what: 'the delivery' });
    const [request] = receiver.requestsFor(event.id);
    expect(request.id).toBe(event.id);
    expect(Number(request.timestamp)).toBeCloseTo(Date.now() / 1000, -1);
    expect(request.signature).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(verifyWith(sub.secret, request)).toEqual({ event: 'message.received', sessionId: event.sessionId, timestamp: event.timestamp, payload: event.payload });
    // A wrong secret does not verify: the signature really depends on the key.
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(request.body, request.headers as Record<string, string>)).toThrow();
    expect(request.body).not.toContain(sub.secret.slice(6));
    const delivery = await h.untilDelivery(sub.id, event.id, (d) => d.state === 'succeeded', 'the delivery to be recorded as succeeded');
    expect(delivery).toMatchObject({ attempts: 1, lastStatusCode: 200, responseExcerpt: 'ok', eventType: 'message.received' });
  });

  it('filters by event type', async () => {
    const statusOnly = await h.subscribe(`${receiver.url}/status`, { events: ['message.status'] });
    const received = h.event();
    const status = h.event({}, 'message.status');
    await h.bus.publish(received);
    await h.bus.publish(status);
    await h.untilDelivery(statusOnly.id, status.id, (d) => d.state === 'succeeded', 'the status delivery');
    expect(receiver.requests.filter((r) => r.path === '/hooks/status').map((r) => r.id)).toEqual([status.id]);
    expect(await h.deliveries(statusOnly.id)).toHaveLength(1);
  });

  it('delivers every event, none lost, after the receiver was down (500, then refusing connections), on the stored schedule', async () => {
    const sub = await h.subscribe(receiver.url);
    let healthy = false;
    receiver.answer = () => (healthy ? { status: 200 } : { status: 500, body: 'down for maintenance' });
    const events = Array.from({ length: 5 }, () => h.event());
    for (const event of events) await h.bus.publish(event);
    // Every event has failed at least twice before the receiver goes fully down.
    await waitFor(() => events.every((e) => receiver.requestsFor(e.id).length >= 2), { what: 'two failed attempts per event' });
    const port = receiver.port;
    await receiver.stop();
    await waitFor(async () => (await h.deliveries(sub.id)).every((d) => d.attempts >= 3 && d.error), { what: 'an attempt against the refusing endpoint' });
    const failed = await h.deliveries(sub.id);
    expect(failed.every((d) => d.state === 'pending' && d.lastStatusCode === null && /ECONNREFUSED/.test(d.error))).toBe(true);
    healthy = true;
    await receiver.start(port);
    await waitFor(() => events.every((e) => receiver.requestsFor(e.id).some((r) => r.status === 200)), { what: 'every event to arrive after the receiver returned' });

    for (const event of events) {
      const requests = receiver.requestsFor(event.id);
      // One id per event, and no request after its success.
      expect(new Set(requests.map((r) => r.id)).size).toBe(1);
      expect(requests.filter((r) => r.status === 200)).toHaveLength(1);
      expect(requests[requests.length - 1].status).toBe(200);
      const gaps = gapsOf(requests.map((r) => r.receivedAt));
      gaps.forEach((gap, i) => {
        // The gap before attempt i+2 is the schedule's delay i+1 (a refused attempt in between shifts the index, hence >=).
        expect(gap).toBeGreaterThanOrEqual(TEST_SCHEDULE_MS[i + 1] - 10);
      });
      expect(gaps[0]).toBeLessThan(TEST_SCHEDULE_MS[1] + 1500);
    }
    await waitFor(async () => (await h.deliveries(sub.id)).every((d) => d.state === 'succeeded'), { what: 'every delivery succeeded' });
    const deliveries = await h.deliveries(sub.id);
    expect(deliveries).toHaveLength(5);
    expect(deliveries.every((d) => d.attempts >= 4)).toBe(true);
  });

  it('honours Retry-After on 429 and 503', async () => {
    const sub = await h.subscribe(receiver.url);
    receiver.answer = (r) => (receiver.requestsFor(r.id).length === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' } : { status: 200 });
    const event = h.event();
    await h.bus.publish(event);
    await h.untilDelivery(sub.id, event.id, (d) => d.state === 'succeeded', 'the delivery after Retry-After');
    const [first, second] = receiver.requestsFor(event.id);
    // The schedule alone would retry after 150 ms.
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(990);
  });

  it('disables the subscription on 410 Gone, says so, and stops delivering', async () => {
    const sub = await h.subscribe(receiver.url);
    receiver.answer = () => ({ status: 410, body: 'gone' });
    const event = h.event();
    await h.bus.publish(event);
    await h.untilDelivery(sub.id, event.id, (d) => d.state === 'disabled', 'the delivery to be disabled');
    const view = await h.request('GET', `/webhooks/${sub.id}`);
    expect(view.body).toMatchObject({ state: 'disabled', disabledReason: expect.stringContaining('410') });
    const audit = await h.dataSource.query(`SELECT detail FROM events WHERE type = 'webhook.disabled' AND detail->>'subscriptionId' = $1`, [sub.id]);
    expect(audit).toHaveLength(1);
    const later = h.event();
    await h.bus.publish(later);
    const marker = await h.subscribe(`${receiver.url}/marker`);
    const markerEvent = h.event();
    await h.bus.publish(markerEvent);
    await h.untilDelivery(marker.id, markerEvent.id, (d) => d.state === 'succeeded' || d.state === 'disabled', 'the marker delivery');
    expect(receiver.requestsFor(later.id)).toHaveLength(0);
    expect(receiver.requestsFor(event.id)).toHaveLength(1);
  });

  it('a failure seen before an enable cannot disable the endpoint again: only the run of failures still current can', async () => {
    const sub = await h.subscribe(receiver.url);
    const subscriptions = h.gw.app.get(SubscriptionsService);
    const store = h.gw.app.get(DeliveryStore);
    const subscription = await subscriptions.get(sub.id);
    // An attempt observed a long run of failures...
    const failingSince = await store.markSubscriptionFailing(sub.id);
    // ...and before it switched the endpoint off, an operator enabled it (which ends that run).
    await subscriptions.enable(sub.id);
    expect(await subscriptions.disable(subscription, 'stale', { failingSince })).toBe(false);
    expect((await h.request('GET', `/webhooks/${sub.id}`)).body.state).toBe('active');
    // A run of failures that is still current does switch it off.
    const current = await store.markSubscriptionFailing(sub.id);
    expect(await subscriptions.disable(subscription, 'failing', { failingSince: current })).toBe(true);
    expect((await h.request('GET', `/webhooks/${sub.id}`)).body).toMatchObject({ state: 'disabled', disabledReason: 'failing' });
  });

  it('puts back a delivery marked disabled by an attempt whose disable did not apply, only while its subscription is active', async () => {
    const sub = await h.subscribe(`${receiver.url}/resume`);
    const store = h.gw.app.get(DeliveryStore);
    const event = h.event();
    // The durable half of publish only: no job runs this delivery behind the test's back.
    const [[deliveryId]] = await store.fanOut([{ event, body: deliveryBody(event), jobId: randomUUID() }]);
    const failed = { replays: 0, statusCode: 502, responseExcerpt: null, error: null, nextAttemptAt: null };
    expect(await store.recordAttempt(deliveryId, { ...failed, attempt: 1, state: 'disabled' })).toBe(true);
    const next = new Date(Date.now() + 60_000);
    expect(await store.resumeDisabled(deliveryId, 1, 0, next)).toBe(true);
    expect((await h.deliveries(sub.id)).find((d) => d.id === deliveryId)).toMatchObject({ state: 'pending', attempts: 1 });
    // With the subscription switched off it stays disabled.
    expect(await store.recordAttempt(deliveryId, { ...failed, attempt: 2, state: 'disabled' })).toBe(true);
    await h.gw.app.get(SubscriptionsService).disable(await h.gw.app.get(SubscriptionsService).get(sub.id), 'off');
    expect(await store.resumeDisabled(deliveryId, 2, 0, next)).toBe(false);
    expect((await h.deliveries(sub.id)).find((d) => d.id === deliveryId)).toMatchObject({ state: 'disabled' });
  });

  it('fails a delivery that runs out of attempts, lists it, and replays it with the same webhook-id', async () => {
    const sub = await h.subscribe(receiver.url);
    let healthy = false;
    receiver.answer = () => (healthy ? { status: 204 } : { status: 500, body: 'x'.repeat(5000) });
    const event = h.event();
    await h.bus.publish(event);
    const failed = await h.untilDelivery(sub.id, event.id, (d) => d.state === 'failed', 'the delivery to fail');
    expect(failed.attempts).toBe(TEST_SCHEDULE_MS.length);
    expect(failed.lastStatusCode).toBe(500);
    expect(failed.responseExcerpt.length).toBeLessThanOrEqual(1024);
    expect((await h.deliveries(sub.id, '?state=failed')).map((d) => d.id)).toEqual([failed.id]);
    expect(await h.deliveries(sub.id, '?state=succeeded')).toEqual([]);
    expect((await h.request('GET', `/webhooks/${sub.id}/deliveries?state=bogus`)).status).toBe(400);

    healthy = true;
    const replay = await h.request('POST', `/webhooks/${sub.id}/deliveries/${failed.id}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body.state).toBe('pending');
    const delivered = await h.untilDelivery(sub.id, event.id, (d) => d.state === 'succeeded', 'the replayed delivery');
    expect(delivered.attempts).toBe(TEST_SCHEDULE_MS.length + 1);
    const requests = receiver.requestsFor(event.id);
    expect(requests).toHaveLength(TEST_SCHEDULE_MS.length + 1);
    expect(new Set(requests.map((r) => r.id))).toEqual(new Set([event.id]));
    expect(verifyWith(sub.secret, requests[requests.length - 1])).toMatchObject({ event: 'message.received' });
    // A delivery still pending cannot be replayed; an unknown one is a 404.
    expect((await h.request('POST', `/webhooks/${sub.id}/deliveries/00000000-0000-4000-8000-000000000000/replay`)).status).toBe(404);
  });

  it('never fans one event out twice: the same event published twice arrives once, under one id', async () => {
    const sub = await h.subscribe(receiver.url);
    const event = h.event();
    await h.bus.publish(event);
    await h.bus.publish({ ...event });
    await h.untilDelivery(sub.id, event.id, (d) => d.state === 'succeeded', 'the delivery');
    // Once the next event is through, a second fan-out of the first would have shown up too.
    const next = h.event();
    await h.bus.publish(next);
    await h.untilDelivery(sub.id, next.id, (d) => d.state === 'succeeded', 'the next delivery');
    expect(receiver.requestsFor(event.id)).toHaveLength(1);
    expect((await h.deliveries(sub.id)).filter((d) => d.eventId === event.id)).toHaveLength(1);
    // Fanned out inside publish: no fan-out job in between.
    expect(await h.gw.app.get(MessageQueue).getJob(WEBHOOK_FANOUT_QUEUE, fanoutJobId(event.id))).toBeNull();
  });

  it('reuses keep-alive connections and keeps at most WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT requests open per endpoint', async () => {
    await h.subscribe(receiver.url);
    const events = Array.from({ length: 60 }, () => h.event());
    await Promise.all(events.map((event) => h.bus.publish(event)));
    await waitFor(() => events.every((e) => receiver.requestsFor(e.id).length === 1), { what: 'all 60 deliveries' });
    expect(receiver.maxConcurrent).toBeLessThanOrEqual(DEFAULT_MAX_IN_FLIGHT_PER_ENDPOINT);
    // Without keep-alive every request would have opened a connection of its own.
    expect(receiver.connections).toBeLessThanOrEqual(DEFAULT_MAX_IN_FLIGHT_PER_ENDPOINT);
  });

  it('creates no second delivery for an event published again after it was delivered', async () => {
    const sub = await h.subscribe(receiver.url);
    const event = h.event();
    await h.bus.publish(event);
    const delivered = await h.untilDelivery(sub.id, event.id, (d) => d.state === 'succeeded', 'the delivery');
    await h.bus.publish({ ...event, payload: { changed: true } });
    // The fan-out creates nothing for it, so publish enqueued nothing.
    expect(await h.gw.app.get(DeliveryStore).fanOut([{ event, body: deliveryBody(event), jobId: randomUUID() }])).toEqual([[]]);
    const next = h.event();
    await h.bus.publish(next);
    await h.untilDelivery(sub.id, next.id, (d) => d.state === 'succeeded', 'the next delivery');
    expect(receiver.requestsFor(event.id)).toHaveLength(1);
    expect((await h.deliveries(sub.id)).filter((d) => d.eventId === event.id)).toEqual([delivered]);
  });

  it('delivers an event recorded by a process that crashed before enqueueing it, once the reconciler finds it overdue', async () => {
    const sub = await h.subscribe(receiver.url);
    const event = h.event();
    // The durable half of publish without the enqueue, as when the process dies between the two.
    const [created] = await h.gw.app.get(DeliveryStore).fanOut([{ event, body: deliveryBody(event), jobId: randomUUID() }]);
    expect(created).toHaveLength(1);
    const reconciler = h.gw.app.get(DeliveryReconciler);
    // Not yet overdue: a delivery whose job is merely queued is left alone.
    expect(await reconciler.reconcile()).toBe(0);
    expect(await reconciler.reconcile(Date.now() + RECONCILE_GRACE_MS + 1000)).toBe(1);
    // Under the job id noted at fan-out: reconciling again while that job exists adds nothing.
    expect(await reconciler.reconcile(Date.now() + RECONCILE_GRACE_MS + 1000)).toBe(0);
    await h.untilDelivery(sub.id, event.id, (d) => d.state === 'succeeded', 'the recovered delivery');
    expect(receiver.requestsFor(event.id).map((r) => r.id)).toEqual([event.id]);
    expect(verifyWith(sub.secret, receiver.requestsFor(event.id)[0])).toMatchObject({ event: event.type, sessionId: event.sessionId });
    // The publisher's retry after its restart adds nothing.
    await h.bus.publish(event);
    expect(await reconciler.reconcile(Date.now() + RECONCILE_GRACE_MS + 1000)).toBe(0);
    expect((await h.deliveries(sub.id)).filter((d) => d.eventId === event.id)).toHaveLength(1);
  });

  it('recovers a delivery whose next job was lost in a crash, keeping its webhook-id', async () => {
    const sub = await h.subscribe(receiver.url);
    receiver.answer = () => ({ status: 500 });
    const event = h.event();
    await h.bus.publish(event);
    const failed = await h.untilDelivery(sub.id, event.id, (d) => d.state === 'failed', 'the delivery to fail');
    // As after a crash between recording an attempt and enqueueing the next one: pending, overdue, no job.
    await h.dataSource.query(`UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = now() - interval '1 hour' WHERE id = $1`, [failed.id]);
    receiver.answer = () => ({ status: 200 });
    expect(await h.gw.app.get(DeliveryReconciler).reconcile()).toBe(1);
    await h.untilDelivery(sub.id, event.id, (d) => d.state === 'succeeded', 'the recovered delivery');
    expect(new Set(receiver.requestsFor(event.id).map((r) => r.id))).toEqual(new Set([event.id]));
    // Reconciling again finds nothing to do.
    expect(await h.gw.app.get(DeliveryReconciler).reconcile()).toBe(0);
  });

  it('signs with the new and the old secret during a rotation overlap', async () => {
    const sub = await h.subscribe(receiver.url);
    const rotated = await h.request('POST', `/webhooks/${sub.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(sub.secret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt)).toBeGreaterThan(Date.now() + 23 * 3600_000);
    const event = h.event();
    await h.bus.publish(event);
    await waitFor(() => receiver.requestsFor(event.id).length === 1, { what: 'the delivery' });
    const [request] = receiver.requestsFor(event.id);
    expect(request.signature.split(' ')).toHaveLength(2);
    expect(verifyWith(rotated.body.secret, request)).toMatchObject({ event: 'message.received' });
    expect(verifyWith(sub.secret, request)).toMatchObject({ event: 'message.received' });
  });

  it('manages subscriptions: validation, listing, 404s, admin only', async () => {
    expect((await h.request('POST', '/webhooks', { url: receiver.url, events: ['message.bogus'] })).status).toBe(400);
    expect((await h.request('POST', '/webhooks', { url: 'not a url' })).body.code).toBe('VALIDATION_FAILED');
    expect((await h.request('POST', '/webhooks', { url: receiver.url, sessionId: '00000000-0000-4000-8000-000000000000' })).body.code).toBe('SESSION_NOT_FOUND');
    const all = await h.subscribe(receiver.url, { events: ['*'] });
    const list = await h.request('GET', '/webhooks?limit=200');
    expect(list.body.items.find((w: { id: string }) => w.id === all.id)).toMatchObject({ kind: 'global', events: [], state: 'active', sessionId: null });
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
    expect((await h.request('GET', '/webhooks/not-a-uuid')).body.code).toBe('WEBHOOK_NOT_FOUND');
    expect((await h.request('DELETE', '/webhooks/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await h.request('GET', '/webhooks', undefined, 'not-a-key')).status).toBe(401);
  });
}
