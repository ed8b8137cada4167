import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AppConfig, ConfigModule } from '../../../libs/config/src';
import { AuthModule } from '../../../libs/auth/src';
import { ProblemFilter } from '../../../libs/http/src';
import { LoggerModule, ObservabilityModule } from '../../../libs/observability/src';
import { PersistenceModule } from '../../../libs/persistence/src';
import { Metrics } from '../../../libs/observability/src/metrics';
import { EventsModule } from '../../../libs/events/src';
import { QueueModule } from '../../../libs/queue/src';
import { SessionsModule } from '../../../libs/sessions/src';
import { WebhooksModule } from '../../../libs/webhooks/src';
import { DataSource } from 'typeorm';
import { ApiModule } from '../../api/src/api.module';
import { WorkerModule } from '../../worker/src/worker.module';
import { JOB_NAMES } from './jobs';
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
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(),
        PersistenceModule.forRoot(schemaExtensions),
        ObservabilityModule,
        EventsModule,
        QueueModule.forRootAsync({
          inject: [AppConfig, DataSource, Metrics],
          useFactory: (appConfig: AppConfig, dataSource: DataSource, metrics: Metrics) => ({ redisUrl: appConfig.redisUrl, prefix: appConfig.queuePrefix, dataSource, metrics }),
          // Only a process that consumes jobs must have a handler for each.
          jobNames: config.runsWorker ? JOB_NAMES : [],
        }),
        // One instance for both halves: in role `all` an API command wakes the supervisor in this process.
        SessionsModule.forRole({ api: config.runsApi, worker: config.runsWorker }),
        WebhooksModule.forRole({ api: config.runsApi, worker: config.runsWorker }),
        ...roleModules,
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
    };
  }
}
