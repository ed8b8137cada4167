import { probeServices } from './services';

/**
 * Probes PostgreSQL and Redis once per run. Suites that need them read the
 * result from the environment: they run when the service is reachable and
 * report themselves skipped (with the reason) otherwise. Under
 * REQUIRE_SERVICES=1 (CI) a missing service fails the run instead.
 */
export default async function globalSetup(): Promise<void> {
  const status = await probeServices();
  process.env.TEST_POSTGRES_AVAILABLE = status.postgres ? '1' : '0';
  process.env.TEST_REDIS_AVAILABLE = status.redis ? '1' : '0';
  const missing = [!status.postgres && `PostgreSQL at ${status.postgresUrl}`, !status.redis && `Redis at ${status.redisUrl}`].filter(Boolean);
  if (missing.length === 0) return;
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(`REQUIRE_SERVICES=1 but not reachable: ${missing.join(', ')}`);
  }
  process.stdout.write(`\n[services] not reachable, dependent suites will be skipped: ${missing.join(', ')}\n`);
}
