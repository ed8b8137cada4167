import path from 'node:path';
import { DataSource, MixedList } from 'typeorm';
import { ApiKeyEntity } from './entities/api-key.entity';
import { EventEntity } from './entities/event.entity';
import { MessageEntity } from './entities/message.entity';
import { SessionEntity } from './entities/session.entity';
import { coreMigrations } from './migrations';
import { pgliteDriver } from './pglite/pglite-driver';

export const coreEntities = [SessionEntity, MessageEntity, EventEntity, ApiKeyEntity];

export interface DataSourceOptions {
  /** PostgreSQL URL; unset: PGlite at `pgliteDir` (or in memory when that is unset too). */
  databaseUrl?: string;
  pgliteDir?: string;
  entities?: MixedList<Function>;
  migrations?: MixedList<Function>;
  poolSize?: number;
}

/**
 * One factory for both databases. The same entities and SQL migrations serve
 * PostgreSQL and PGlite (PGlite is PostgreSQL compiled to WebAssembly).
 */
export async function createDataSource(options: DataSourceOptions): Promise<DataSource> {
  const entities = [...coreEntities, ...((options.entities as Function[]) ?? [])];
  const migrations = [...coreMigrations, ...((options.migrations as Function[]) ?? [])];
  const common = { type: 'postgres' as const, entities, migrations, migrationsTableName: 'schema_migrations', uuidExtension: 'pgcrypto' as const };
  if (options.databaseUrl) {
    return new DataSource({ ...common, url: options.databaseUrl, poolSize: options.poolSize ?? 10, applicationName: 'wa-gateway' });
  }
  // PGlite and its pgcrypto extension are ESM: loaded on demand so PostgreSQL deployments never pay for them.
  const { PGlite } = await import('@electric-sql/pglite');
  const { pgcrypto } = await import('@electric-sql/pglite/contrib/pgcrypto');
  const dir = options.pgliteDir ? path.resolve(options.pgliteDir) : undefined;
  const db = await PGlite.create(dir, { extensions: { pgcrypto } });
  return new DataSource({ ...common, driver: pgliteDriver(db as unknown as Parameters<typeof pgliteDriver>[0]) } as never);
}

export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  return applied.map((m) => m.name);
}
