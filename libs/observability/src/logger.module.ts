import { DynamicModule, Global, Module } from '@nestjs/common';
import { Logger, PARAMS_PROVIDER_TOKEN, PinoLogger, type Params } from 'nestjs-pino';
import { AppConfig } from '../../config/src';
import { rootLoggerFor } from './root-logger';

/**
 * Nest's logger through nestjs-pino, over the process's root pino logger.
 * nestjs-pino's own module is not imported: it would also install pino-http
 * as a per-request middleware, and the access log is a Fastify hook instead
 * (see access-log.ts).
 */
@Global()
@Module({})
export class LoggerModule {
  static forRoot(): DynamicModule {
    return {
      module: LoggerModule,
      providers: [
        Logger,
        PinoLogger,
        { provide: PARAMS_PROVIDER_TOKEN, inject: [AppConfig], useFactory: (config: AppConfig): Params => ({ pinoHttp: { logger: rootLoggerFor(config) } }) },
      ],
      exports: [Logger, PinoLogger, PARAMS_PROVIDER_TOKEN],
    };
  }
}
