import { createTestDatabase, describeWithServices } from '../support/services';
import { httpApiSuite } from './http-api.suite';

describe('HTTP API on embedded PGlite', () => {
  httpApiSuite(async () => ({}));
});

describeWithServices(['postgres'], 'HTTP API on PostgreSQL', () => {
  let drop: () => Promise<void> = async () => undefined;
  afterAll(() => drop());
  httpApiSuite(async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    return { DATABASE_URL: db.url };
  });
});
