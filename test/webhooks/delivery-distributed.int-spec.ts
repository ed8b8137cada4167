import { randomInt } from 'node:crypto';
import { TEST_CREDENTIALS_KEY } from '../support/gateway';
import { createTestDatabase, describeWithServices, TEST_REDIS_URL } from '../support/services';
import { webhookDeliverySuite } from './delivery.suite';
import { WebhookHarness } from './support/gateway-harness';

describeWithServices(['postgres', 'redis'], 'webhook delivery, distributed (PostgreSQL + BullMQ)', () => {
  let database: { url: string; drop: () => Promise<void> } | undefined;

  afterAll(async () => {
    await database?.drop();
  });

  webhookDeliverySuite(async () => {
    database = await createTestDatabase('webhooks');
    // A Redis database of its own, so no other suite's workers take these queues' jobs.
    const redis = new URL(TEST_REDIS_URL);
    redis.pathname = `/${randomInt(1, 16)}`;
    return WebhookHarness.start({ DATABASE_URL: database.url, REDIS_URL: redis.toString(), CREDENTIALS_KEY: TEST_CREDENTIALS_KEY });
  });
});
