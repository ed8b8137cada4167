import { Redis } from 'ioredis';
import { TEST_REDIS_URL, describeWithServices, uniquePrefix } from '../support/services';
import { queueContract } from './queue-contract';

describeWithServices(['redis'], 'BullMQ driver on Redis', () => {
  queueContract('BullMQ driver on Redis', async () => {
    const prefix = uniquePrefix('queue-test');
    return {
      spec: { driver: 'bullmq', redisUrl: TEST_REDIS_URL, prefix },
      exclusive: false,
      destroy: async () => {
        // Remove this file's keys so runs do not accumulate in the shared Redis.
        const redis = new Redis(TEST_REDIS_URL);
        try {
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
            cursor = next;
            if (keys.length > 0) await redis.del(...keys);
          } while (cursor !== '0');
        } finally {
          await redis.quit();
        }
      },
    };
  });
});
