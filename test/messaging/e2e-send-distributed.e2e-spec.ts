import { createTestDatabase, describeWithServices, TEST_REDIS_URL, uniquePrefix } from '../support/services';
import { sendPipelineE2E } from './e2e-send.suite';

describeWithServices(['postgres', 'redis'], 'send pipeline end to end on PostgreSQL and BullMQ', () => {
  let drop: () => Promise<void> = async () => undefined;
  afterAll(() => drop());
  sendPipelineE2E(async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    return { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: uniquePrefix('e2e') };
  });
});
