import { loadConfig } from '../../../libs/config/src';
import { createDataSource, DataDirLock, runMigrations } from '../../../libs/persistence/src';
import { schemaExtensions } from './schema';

/** `npm run migrate`: applies pending migrations and exits. */
async function migrate(): Promise<void> {
  const config = loadConfig();
  const lock = config.embedded ? DataDirLock.acquire(config.dataDir) : undefined;
  const dataSource = await createDataSource({ databaseUrl: config.databaseUrl, pgliteDir: `${config.dataDir}/pgdata`, ...schemaExtensions });
  try {
    await dataSource.initialize();
    const applied = await runMigrations(dataSource);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is up to date\n');
  } finally {
    await dataSource.destroy();
    lock?.release();
  }
}

migrate().catch((error) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
