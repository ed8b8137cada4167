import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Histogram } from 'prom-client';

/** Requests that matched no route share one label: paths from clients must not create series. */
const UNMATCHED_ROUTE = '(unmatched)';

/**
 * `http_request_duration_seconds` by method, route pattern (not the path:
 * `/connections/:id/send`, whatever the id) and status, recorded when each
 * response is finished.
 */
export function registerRequestMetrics(fastify: FastifyInstance, duration: Histogram<'method' | 'route' | 'status'>): void {
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    duration.observe({ method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
}
