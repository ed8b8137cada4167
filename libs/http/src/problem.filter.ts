import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, ProblemDocument } from '../../contracts/src';
import { ProblemException, titleFor, typeFor } from './problem.exception';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.ValidationFailed,
  401: ErrorCode.Unauthorized,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  405: ErrorCode.MethodNotAllowed,
  406: ErrorCode.NotAcceptable,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  429: ErrorCode.RateLimited,
  503: ErrorCode.NotReady,
};

/** Fastify's own errors (raised before a route handler runs) that are the client's fault. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: ErrorCode }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: ErrorCode.PayloadTooLarge },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: ErrorCode.UnsupportedMediaType },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: ErrorCode.MalformedBody },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: ErrorCode.MalformedBody },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: ErrorCode.MalformedBody },
};

/**
 * Turns anything thrown into an RFC 9457 problem document. Expected failures
 * keep their status; anything unknown is a 500 that is logged with its stack,
 * and its message is never shown to the client.
 */
export function toProblem(error: unknown, instance?: string): { problem: ProblemDocument; headers: Record<string, string>; unexpected: boolean } {
  if (error instanceof ProblemException) return { problem: error.toProblem(instance), headers: error.headers, unexpected: false };
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const message = typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? error.message);
    const isUnknownRoute = status === 404 && typeof message === 'string' && message.startsWith('Cannot ');
    const code = isUnknownRoute ? ErrorCode.RouteNotFound : (CODE_BY_STATUS[status] ?? (status >= 500 ? ErrorCode.Internal : ErrorCode.ValidationFailed));
    const detail = Array.isArray(message) ? message.join('; ') : String(message);
    return { problem: { type: typeFor(code), title: titleFor(status), status, detail, code, instance }, headers: {}, unexpected: status >= 500 };
  }
  const fastifyError = error as { code?: string; statusCode?: number; message?: string };
  const known = fastifyError.code ? FASTIFY_CLIENT_ERRORS[fastifyError.code] : undefined;
  if (known || (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500)) {
    const status = known?.status ?? fastifyError.statusCode!;
    const code = known?.code ?? CODE_BY_STATUS[status] ?? ErrorCode.MalformedBody;
    return { problem: { type: typeFor(code), title: titleFor(status), status, detail: fastifyError.message ?? titleFor(status), code, instance }, headers: {}, unexpected: false };
  }
  return {
    problem: { type: typeFor(ErrorCode.Internal), title: titleFor(500), status: 500, detail: 'An unexpected error occurred; it has been logged.', code: ErrorCode.Internal, instance },
    headers: {},
    unexpected: true,
  };
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: unknown, logger: Pick<Logger, 'error'>): void {
  const { problem, headers, unexpected } = toProblem(error, request.url.split('?')[0]);
  if (unexpected) logger.error({ err: error, reqId: request.id }, 'unexpected error');
  if (reply.sent) return;
  reply.status(problem.status).headers(headers).header('content-type', 'application/problem+json; charset=utf-8').send(JSON.stringify(problem));
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(http.getResponse<FastifyReply>(), http.getRequest<FastifyRequest>(), error, this.logger);
  }
}
