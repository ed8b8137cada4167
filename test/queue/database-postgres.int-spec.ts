import { createTestDatabase, describeWithServices } from '../support/services';
import { queueContract } from './queue-contract';

describeWithServices(['postgres'], 'database driver on PostgreSQL', () => {
  queueContract('database driver on PostgreSQL', async () => {
    const database = await createTestDatabase('queue');
    return { spec: { driver: 'postgres', url: database.url }, exclusive: false, destroy: database.drop };
  });
});
