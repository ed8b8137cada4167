import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import pino, { type Logger as PinoInstance } from 'pino';
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

const rootLoggers = new WeakMap<AppConfig, PinoInstance>();

/**
 * The process's one pino logger for a configuration: Nest's logger (through
 * nestjs-pino) and the HTTP access log write through the same instance, so
 * both carry the base fields and the same redaction.
 */
export function rootLoggerFor(config: AppConfig): PinoInstance {
  let logger = rootLoggers.get(config);
  if (!logger) {
    logger = pino({
      level: config.logLevel,
      base: { service: SERVICE_NAME, version: SERVICE_VERSION, role: config.role },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    });
    rootLoggers.set(config, logger);
  }
  return logger;
}
