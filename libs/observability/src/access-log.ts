import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger as PinoInstance, Level } from 'pino';

/** Polled by orchestrators and scrapers every few seconds: a line each would drown the log. */
const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);

const levelFor = (statusCode: number): Level => (statusCode >= 500 ? 'error' : statusCode >= 400 ? 'warn' : 'info');

/**
 * One line per finished request, in pino-http's shape (`req`, `res`,
 * `responseTime`), written from a Fastify hook. A request-scoped logger kept
 * in AsyncLocalStorage (nestjs-pino's middleware) would tag service logs with
 * the request id, but costs every request a middleware pass, a child logger
 * that serialises the request up front, and async context tracking on every
 * promise; the few service logs that matter per request (unexpected errors)
 * name the request id themselves. The line is built only when its level is on.
 */
export function registerAccessLog(fastify: FastifyInstance, logger: PinoInstance): void {
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const level = levelFor(reply.statusCode);
    if (logger.isLevelEnabled(level) && !QUIET_PATHS.has(request.url.split('?')[0])) {
      logger[level](
        {
          req: { id: request.id, method: request.method, url: request.url, headers: request.headers, remoteAddress: request.ip },
          res: { statusCode: reply.statusCode },
          responseTime: Math.round(reply.elapsedTime),
        },
        reply.statusCode >= 500 ? 'request errored' : 'request completed',
      );
    }
    done();
  });
}
