import { createDataSource, runMigrations } from '../../libs/persistence/src';
import { sessionOwnershipMigrations } from '../../libs/sessions/src/ownership';
import { authStateMigrations } from '../../libs/whatsapp/src/auth-state';
import { authStateContract } from './auth-state-contract';

authStateContract('PGlite', async () => {
  const dataSource = await createDataSource({ migrations: [...sessionOwnershipMigrations, ...authStateMigrations] });
  await dataSource.initialize();
  await runMigrations(dataSource);
  return { dataSource, destroy: () => dataSource.destroy() };
});
