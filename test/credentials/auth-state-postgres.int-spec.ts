import { createDataSource, runMigrations } from '../../libs/persistence/src';
import { sessionOwnershipMigrations } from '../../libs/sessions/src/ownership';
import { authStateMigrations } from '../../libs/whatsapp/src/auth-state';
import { createTestDatabase, describeWithServices } from '../support/services';
import { authStateContract } from './auth-state-contract';

describeWithServices(['postgres'], 'encrypted auth state on PostgreSQL', () => {
  authStateContract('PostgreSQL', async () => {
    const database = await createTestDatabase('credentials');
    const dataSource = await createDataSource({ databaseUrl: database.url, migrations: [...sessionOwnershipMigrations, ...authStateMigrations] });
    await dataSource.initialize();
    await runMigrations(dataSource);
    return {
      dataSource,
      destroy: async () => {
        await dataSource.destroy();
        await database.drop();
      },
    };
  });
});
