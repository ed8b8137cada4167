import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AppConfig, ConfigModule } from '../../../libs/config/src';
import { AuthModule } from '../../../libs/auth/src';
import { ProblemFilter } from '../../../libs/http/src';
import { LoggerModule, ObservabilityModule } from '../../../libs/observability/src';
import { PersistenceModule } from '../../../libs/persistence/src';
import { ApiModule } from '../../api/src/api.module';
import { WorkerModule } from '../../worker/src/worker.module';
import { schemaExtensions } from './schema';

/** One composition for the three roles: `all` is simply both halves in one process. */
@Module({})
export class AppModule {
  static forRole(config: AppConfig): DynamicModule {
    const roleModules = [
      ...(config.runsApi ? [ApiModule] : [AuthModule.forRole({ withKeyManagement: false })]),
      ...(config.runsWorker ? [WorkerModule] : []),
    ];
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), LoggerModule.forRoot(), PersistenceModule.forRoot(schemaExtensions), ObservabilityModule, ...roleModules],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
    };
  }
}
