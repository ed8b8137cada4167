import { randomUUID } from 'node:crypto';
import { DomainEvent, EventBus } from '../../libs/events/src';
import { InProcessGateway, startGateway, TEST_CREDENTIALS_KEY } from '../support/gateway';
import { createTestDatabase, describeWithServices, TEST_REDIS_URL, uniquePrefix, waitFor } from '../support/services';

describeWithServices(['postgres', 'redis'], 'live events across processes (REDIS_URL set)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let api: InProcessGateway;
  let worker: InProcessGateway;

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, CREDENTIALS_KEY: TEST_CREDENTIALS_KEY, QUEUE_PREFIX: uniquePrefix('relay') };
    api = await startGateway({ ...env, ROLE: 'api' });
    worker = await startGateway({ ...env, ROLE: 'worker' });
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await db?.drop();
  });

  it('an event published by the worker reaches listeners of the api process once, and the publisher once', async () => {
    const seenByApi: DomainEvent[] = [];
    const seenByWorker: DomainEvent[] = [];
    api.app.get(EventBus).subscribe((e) => seenByApi.push(e));
    worker.app.get(EventBus).subscribe((e) => seenByWorker.push(e));
    const event: DomainEvent = { id: `test:${randomUUID()}`, type: 'connection.status', sessionId: randomUUID(), timestamp: new Date().toISOString(), payload: { status: 'connected' } };
    await worker.app.get(EventBus).publish(event);
    await waitFor(() => seenByApi.some((e) => e.id === event.id), { what: 'the api process to see the event' });
    expect(seenByWorker.filter((e) => e.id === event.id)).toHaveLength(1);
    // Give a duplicate relay the chance to show up before counting: a second publish acts as a barrier.
    const barrier = { ...event, id: `test:${randomUUID()}` };
    await worker.app.get(EventBus).publish(barrier);
    await waitFor(() => seenByApi.some((e) => e.id === barrier.id), { what: 'the barrier event' });
    expect(seenByApi.filter((e) => e.id === event.id)).toHaveLength(1);
  });
});
