import { Queue } from 'bullmq';
import { TEST_REDIS_URL, createTestDatabase, describeWithServices, uniquePrefix } from '../support/services';
import { sendPipelineSuite } from './send-pipeline.suite';

describeWithServices(['postgres', 'redis'], 'send pipeline on PostgreSQL and BullMQ', () => {
  let drop: () => Promise<void> = async () => undefined;
  const prefix = uniquePrefix('messaging');
  afterAll(() => drop());
  sendPipelineSuite(
    async () => {
      const db = await createTestDatabase('messaging');
      drop = db.drop;
      return { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix };
    },
    async (_h, queueName, jobId) => {
      // The port has no "lose a job": remove it behind the gateway's back, as a Redis flush would.
      const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL }, prefix });
      try {
        await (await queue.getJob(jobId))?.remove();
      } finally {
        await queue.close();
      }
    },
  );
});
