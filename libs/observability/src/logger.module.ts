import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule as PinoLoggerModule } from 'nestjs-pino';
import { AppConfig } from '../../config/src';
import { SERVICE_NAME, SERVICE_VERSION } from './service-info';

/** Paths never written to a log line: credentials travel in these headers. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.apiKey',
  '*.secret',
  '*.webhookSecret',
  '*.key',
];

export function requestIdOf(req: IncomingMessage): string {
  const header = req.headers['x-request-id'];
  const given = Array.isArray(header) ? header[0] : header;
  // Echo a sane client id; anything else (too long, odd characters) is replaced so logs stay clean.
  return given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

@Module({})
export class LoggerModule {
  static forRoot(): DynamicModule {
    return {
      module: LoggerModule,
      imports: [
        PinoLoggerModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            pinoHttp: {
              level: config.logLevel,
              base: { service: SERVICE_NAME, version: SERVICE_VERSION, role: config.role },
              redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
              genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? requestIdOf(req),
              autoLogging: { ignore: (req: IncomingMessage) => ['/health', '/ready', '/metrics'].includes(req.url ?? '') },
              customLogLevel: (_req: IncomingMessage, res: { statusCode: number }, error?: Error) =>
                error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
            },
          }),
        }),
      ],
      exports: [PinoLoggerModule],
    };
  }
}
