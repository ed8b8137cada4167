import { DynamicModule, Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/src';
import { DataDirLock } from './data-dir-lock';
import { createDataSource, runMigrations } from './data-source';

/** Tables owned by other libraries (queue jobs, credentials, webhooks) join the one migration list here. */
export const EXTRA_SCHEMA = Symbol('EXTRA_SCHEMA');
export interface ExtraSchema {
  entities: Function[];
  migrations: Function[];
}

@Injectable()
class DataSourceLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(DataDirLock) private readonly lock: DataDirLock | null,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    this.lock?.release();
  }
}

/**
 * Opens the database (PostgreSQL, or PGlite under DATA_DIR with an exclusive
 * lock on the directory) and runs the migrations at boot unless disabled.
 */
@Global()
@Module({})
export class PersistenceModule {
  static forRoot(extra: ExtraSchema = { entities: [], migrations: [] }): DynamicModule {
    return {
      module: PersistenceModule,
      providers: [
        { provide: DataDirLock, inject: [AppConfig], useFactory: (config: AppConfig) => (config.embedded ? DataDirLock.acquire(config.dataDir) : null) },
        {
          provide: DataSource,
          inject: [AppConfig, DataDirLock],
          useFactory: async (config: AppConfig) => {
            const dataSource = await createDataSource({
              databaseUrl: config.databaseUrl,
              pgliteDir: path.join(config.dataDir, 'pgdata'),
              entities: extra.entities,
              migrations: extra.migrations,
            });
            await dataSource.initialize();
            if (config.migrateOnBoot) {
              const applied = await runMigrations(dataSource);
              if (applied.length) new Logger('Persistence').log(`applied migrations: ${applied.join(', ')}`);
            }
            return dataSource;
          },
        },
        DataSourceLifecycle,
      ],
      exports: [DataSource],
    };
  }
}
