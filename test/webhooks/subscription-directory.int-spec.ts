import { SUBSCRIPTION_CACHE_TTL_MS, SubscriptionDirectory } from '../../libs/webhooks/src';
import { createTestDatabase, describeWithServices, waitFor } from '../support/services';
import { WebhookHarness } from './support/gateway-harness';
import { WebhookReceiver } from './support/receiver';

/**
 * Two gateways on one PostgreSQL database: each keeps its own copy of the
 * subscriptions, which a change made through the other reaches within the
 * cache's lifetime, and which can never cause a delivery to a subscription
 * that is gone.
 */
describeWithServices(['postgres'], 'webhook subscription directory across two gateways (PostgreSQL)', () => {
  let database: { url: string; drop: () => Promise<void> };
  let a: WebhookHarness;
  let b: WebhookHarness;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    database = await createTestDatabase('webhooks_directory');
    a = await WebhookHarness.start({ DATABASE_URL: database.url });
    b = await WebhookHarness.start({ DATABASE_URL: database.url });
    receiver = await new WebhookReceiver().start();
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await receiver?.stop();
    await database?.drop();
  });

  const recorded = async (eventId: string) =>
    Number((await a.dataSource.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE event_id = $1`, [eventId]))[0].n);

  it('sees a subscription made through the other gateway, and stops seeing it once it is removed there', async () => {
    const directoryA = a.gw.app.get(SubscriptionDirectory);
    const directoryB = b.gw.app.get(SubscriptionDirectory);
    const probe = a.event();
    // B loads its copy while nothing is subscribed.
    expect(await directoryB.mayMatch(probe)).toBe(false);

    const sub = await a.subscribe(receiver.url);
    // The gateway that made the change knows at once.
    expect(await directoryA.mayMatch(probe)).toBe(true);
    await waitFor(() => directoryB.mayMatch(probe), { timeoutMs: SUBSCRIPTION_CACHE_TTL_MS + 5000, what: 'gateway B to see the new subscription' });

    const event = b.event();
    await b.bus.publish(event);
    await a.untilDelivery(sub.id, event.id, (d) => d.state === 'succeeded', 'the delivery of the event B published');
    expect(receiver.requestsFor(event.id)).toHaveLength(1);

    await a.cleanup();
    expect(await directoryA.mayMatch(probe)).toBe(false);
    // Whatever B's copy says right now, the statement matches in the database: nothing is recorded for the removed subscription.
    const late = b.event();
    await b.bus.publish(late);
    expect(await recorded(late.id)).toBe(0);
    await waitFor(async () => !(await directoryB.mayMatch(probe)), { timeoutMs: SUBSCRIPTION_CACHE_TTL_MS + 5000, what: 'gateway B to forget the subscription' });
    expect(receiver.requestsFor(late.id)).toHaveLength(0);
  });

  it('matches by connection and event type', async () => {
    const directoryB = b.gw.app.get(SubscriptionDirectory);
    const connectionEvent = a.event();
    const session = await a.request('POST', '/connections', { label: 'directory-test' });
    expect(session.status).toBe(201);
    const sessionId: string = session.body.id;
    await a.subscribe(receiver.url, { sessionId, events: ['message.status'] });
    const wanted = a.event({ sessionId }, 'message.status');
    await waitFor(() => directoryB.mayMatch(wanted), { timeoutMs: SUBSCRIPTION_CACHE_TTL_MS + 5000, what: 'gateway B to see the connection subscription' });
    expect(await directoryB.mayMatch(a.event({ sessionId }, 'message.received'))).toBe(false);
    expect(await directoryB.mayMatch(connectionEvent)).toBe(false);
    await a.cleanup();
  });
});
