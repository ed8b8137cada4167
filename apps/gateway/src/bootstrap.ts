import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import rateLimit from '@fastify/rate-limit';
import { Logger } from 'nestjs-pino';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppConfig, ensureCredentialsKey } from '../../../libs/config/src';
import { ErrorCode } from '../../../libs/contracts/src';
import { apiKeyHashOf } from '../../../libs/auth/src/api-key.hash';
import { createValidationPipe, ProblemException } from '../../../libs/http/src';
import { Metrics, registerAccessLog, registerRequestMetrics, requestIdOf, rootLoggerFor, SERVICE_NAME, SERVICE_VERSION } from '../../../libs/observability/src';
import { AppModule } from './app.module';

const OPERATIONS_PATHS = new Set(['/health', '/ready', '/metrics']);
const BLANK = /^\s*$/;

/** Rate limits apply per API key (hashed, never logged), or per client address without one. */
function rateLimitKey(request: FastifyRequest): string {
  const keyHash = apiKeyHashOf(request);
  return keyHash ? `key:${keyHash}` : `ip:${request.ip}`;
}

async function configureFastify(fastify: FastifyInstance, config: AppConfig): Promise<void> {
  // JSON only: a text/plain body would otherwise reach validation as a string and read as a 400.
  fastify.removeContentTypeParser('text/plain');
  // An empty body sent with a JSON content type (common for DELETE and POST actions) means "no body", not an error.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    // A test, not trim(): trimming copies the whole body (megabytes for a base64 media send) on every request.
    if (BLANK.test(text)) return done(null, undefined);
    parseJson(request, text, done);
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  registerAccessLog(fastify, rootLoggerFor(config));
  await fastify.register(rateLimit, {
    global: true,
    max: config.rateLimitMax,
    timeWindow: config.rateLimitWindowMs,
    keyGenerator: rateLimitKey,
    allowList: (request) => OPERATIONS_PATHS.has(request.url.split('?')[0]),
    errorResponseBuilder: (_request, context) =>
      Object.assign(new ProblemException(429, ErrorCode.RateLimited, `Rate limit of ${context.max} requests per ${context.after} exceeded for this key; retry later`), { statusCode: 429 }),
  });
}

function setupSwagger(app: NestFastifyApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('WhatsApp Gateway API')
      .setDescription('Durable, idempotent WhatsApp sessions, sends and webhooks. Errors are RFC 9457 problem documents.')
      .setVersion(SERVICE_VERSION)
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key' })
      .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key' }, 'x-api-key')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
}

/** Builds the application for a role; main.ts listens, tests use it directly. */
export async function createApp(rawConfig: AppConfig): Promise<NestFastifyApplication> {
  const config = ensureCredentialsKey(rawConfig);
  const adapter = new FastifyAdapter({ bodyLimit: config.bodyLimitBytes, genReqId: requestIdOf, trustProxy: false });
  await configureFastify(adapter.getInstance(), config);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRole(config), adapter, { bufferLogs: true, abortOnError: false, bodyParser: false });
  // Before init: Nest adds its routes to Fastify at init, and they take the hooks registered by then.
  registerRequestMetrics(adapter.getInstance(), app.get(Metrics).httpRequestDuration);
  const logger = app.get(Logger);
  app.useLogger(logger);
  app.useGlobalPipes(createValidationPipe());
  if (config.runsApi) setupSwagger(app);
  return app;
}

export { SERVICE_NAME };
