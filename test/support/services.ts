import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function probeServices() {
  const [postgres, redis] = await Promise.all([reachable(TEST_POSTGRES_URL, 5432), reachable(TEST_REDIS_URL, 6379)]);
  return { postgres, redis, postgresUrl: TEST_POSTGRES_URL, redisUrl: TEST_REDIS_URL };
}

export const postgresAvailable = () => process.env.TEST_POSTGRES_AVAILABLE !== '0';
export const redisAvailable = () => process.env.TEST_REDIS_AVAILABLE !== '0';

/**
 * `describe` for suites that need real services: when one is not reachable the
 * suite is reported skipped with the reason in its title (the global setup has
 * already failed the run if REQUIRE_SERVICES=1).
 */
export function describeWithServices(needs: Array<'postgres' | 'redis'>, title: string, body: () => void): void {
  const missing = needs.filter((s) => (s === 'postgres' ? !postgresAvailable() : !redisAvailable()));
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const skipped = describe.skip;
  skipped(`${title} [skipped: ${missing.join(' and ')} not reachable]`, body);
}

/** Creates an empty PostgreSQL database (for one test file or one benchmark run) and returns its URL and a dropper. */
export async function createTestDatabase(prefix = 'wagw', adminUrl = TEST_POSTGRES_URL): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A Redis key prefix unique to one test file, so files never see each other's queues. */
export const uniquePrefix = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(check: () => T | Promise<T>, { timeoutMs = 10000, intervalMs = 25, what = 'condition' } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
