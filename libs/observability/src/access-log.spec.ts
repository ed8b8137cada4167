import Fastify from 'fastify';
import pino from 'pino';
import { registerAccessLog } from './access-log';
import { REDACTED_PATHS } from './root-logger';

async function serverLogging(level: pino.Level) {
  const lines: Array<Record<string, any>> = [];
  const logger = pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const fastify = Fastify({ genReqId: () => 'req-1' });
  registerAccessLog(fastify, logger);
  fastify.get('/ok', async () => ({ ok: true }));
  fastify.get('/boom', async (_request, reply) => reply.status(503).send({}));
  fastify.get('/health', async () => ({ status: 'ok' }));
  await fastify.ready();
  return { fastify, lines };
}

describe('registerAccessLog', () => {
  it('writes one pino-http shaped line per request, credentials redacted, level by status', async () => {
    const { fastify, lines } = await serverLogging('info');
    await fastify.inject({ url: '/ok?x=1', headers: { authorization: 'Bearer wak_secret', 'x-api-key': 'wak_secret', 'user-agent': 't' } });
    await fastify.inject({ url: '/missing' });
    await fastify.inject({ url: '/boom' });
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { id: 'req-1', method: 'GET', url: '/ok?x=1', headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', 'user-agent': 't' } },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
    });
    expect(JSON.stringify(lines)).not.toContain('wak_secret');
    expect(lines[1]).toMatchObject({ level: 40, res: { statusCode: 404 } });
    expect(lines[2]).toMatchObject({ level: 50, msg: 'request errored', res: { statusCode: 503 } });
    await fastify.close();
  });

  it('skips probes, and lines below the level', async () => {
    const { fastify, lines } = await serverLogging('warn');
    await fastify.inject({ url: '/health' });
    await fastify.inject({ url: '/ok' });
    await fastify.inject({ url: '/missing' });
    expect(lines.map((l) => l.res.statusCode)).toEqual([404]);
    await fastify.close();
  });
});
