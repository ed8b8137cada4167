import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig, processEnvironment } from '../../../libs/config/src';
import { DataDirLockedError } from '../../../libs/persistence/src';
import { createApp } from './bootstrap';

/**
 * Entry point of every role (ROLE=all|api|worker). Exits non-zero with one
 * clear message on a configuration error or a locked DATA_DIR.
 */
export async function main(overrides: Record<string, string> = {}): Promise<void> {
  const started = Date.now();
  let config;
  try {
    config = loadConfig(processEnvironment(overrides));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }

  let app;
  try {
    app = await createApp(config);
  } catch (error) {
    const cause = error instanceof DataDirLockedError ? error : (error as { cause?: unknown }).cause;
    if (error instanceof DataDirLockedError || cause instanceof DataDirLockedError) {
      process.stderr.write(`${(cause as Error).message}\n`);
      process.exit(73); // EX_CANTCREAT
    }
    process.stderr.write(`Failed to start: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const logger = new Logger('Shutdown');
    logger.log(`${signal} received: draining`);
    // A hung dependency must not keep the process alive past the orchestrator's grace period.
    setTimeout(() => {
      logger.error(`shutdown exceeded ${config.shutdownTimeoutMs} ms: exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    try {
      await app.close();
      process.exit(0);
    } catch (error) {
      logger.error(`shutdown failed: ${(error as Error).message}`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  new Logger('Bootstrap').log(
    `role=${config.role} mode=${config.embedded ? 'embedded' : 'distributed'} listening on port ${port} in ${Date.now() - started} ms` +
      (config.runsApi ? ` (docs: http://127.0.0.1:${port}/docs)` : ''),
  );
}

if (require.main === module) void main();
