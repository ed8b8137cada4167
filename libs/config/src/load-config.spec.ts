import { ConfigError, loadConfig } from './load-config';

const KEY = Buffer.alloc(32, 1).toString('base64');

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('defaults to the embedded all-in-one mode', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, role: 'all', logLevel: 'info', databaseUrl: undefined, redisUrl: undefined, migrateOnBoot: true });
    expect(config.embedded).toBe(true);
    expect(config.dataDir).toMatch(/\/data$/);
    expect(config.runsApi && config.runsWorker).toBe(true);
  });

  it('reads every documented variable', () => {
    const config = loadConfig({
      PORT: '8080',
      ROLE: 'worker',
      DATA_DIR: '/tmp/x',
      DATABASE_URL: 'postgres://u@h:5432/db',
      REDIS_URL: 'redis://h:6379',
      ADMIN_API_KEY: 'a'.repeat(20),
      CREDENTIALS_KEY: KEY,
      LOG_LEVEL: 'debug',
      WA_SANDBOX_URL: 'http://127.0.0.1:4000',
      WEBHOOK_ALLOW_PRIVATE_HOSTS: '127.0.0.1, localhost',
    });
    expect(config).toMatchObject({ port: 8080, role: 'worker', dataDir: '/tmp/x', logLevel: 'debug', sandboxUrl: 'http://127.0.0.1:4000', webhookAllowPrivateHosts: ['127.0.0.1', 'localhost'] });
    expect(config.credentialsKey).toEqual(Buffer.alloc(32, 1));
    expect(config.runsApi).toBe(false);
    expect(config.embedded).toBe(false);
  });

  it('accepts a hex credentials key', () => {
    expect(loadConfig({ CREDENTIALS_KEY: 'ab'.repeat(32) }).credentialsKey).toEqual(Buffer.alloc(32, 0xab));
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ ROLE: 'boss' }, 'ROLE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: 'mysql://h/db', CREDENTIALS_KEY: KEY }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url', CREDENTIALS_KEY: KEY }, 'DATABASE_URL'],
    [{ REDIS_URL: 'http://h' }, 'REDIS_URL'],
    [{ WA_SANDBOX_URL: 'ftp://h' }, 'WA_SANDBOX_URL'],
    [{ CREDENTIALS_KEY: 'short' }, 'CREDENTIALS_KEY'],
    [{ ADMIN_API_KEY: 'tiny' }, 'ADMIN_API_KEY'],
    [{ DATABASE_URL: 'postgres://h/db' }, 'CREDENTIALS_KEY'],
    [{ ROLE: 'api' }, 'ROLE=api needs DATABASE_URL'],
    [{ MIGRATE_ON_BOOT: 'perhaps' }, 'MIGRATE_ON_BOOT'],
    [{ RATE_LIMIT_MAX: '0' }, 'RATE_LIMIT_MAX'],
    [{ CREDENTIALS_KEY_PREVIOUS: 'short' }, 'CREDENTIALS_KEY_PREVIOUS'],
    [{ LEASE_TTL_MS: '20000', LEASE_RENEW_INTERVAL_MS: '15000' }, 'LEASE_RENEW_INTERVAL_MS'],
  ])('rejects %j naming %s', (env, name) => {
    const problems = problemsOf(env as Record<string, string>);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(name);
  });

  it('names every bad variable in one error', () => {
    let message = '';
    try {
      loadConfig({ PORT: '-1', ROLE: 'x', LOG_LEVEL: 'y', REDIS_URL: 'z' });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of ['PORT', 'ROLE', 'LOG_LEVEL', 'REDIS_URL']) expect(message).toContain(name);
  });

  it('reads the previous credentials key and the lease timing', () => {
    const config = loadConfig({ CREDENTIALS_KEY_PREVIOUS: 'cd'.repeat(32), LEASE_TTL_MS: '6000', LEASE_RENEW_INTERVAL_MS: '1000', LEASE_SAFETY_MARGIN_MS: '2000' });
    expect(config.credentialsKeyPrevious).toEqual(Buffer.alloc(32, 0xcd));
    expect(config).toMatchObject({ leaseTtlMs: 6000, leaseRenewIntervalMs: 1000, leaseSafetyMarginMs: 2000 });
    expect(loadConfig({})).toMatchObject({ credentialsKeyPrevious: undefined, leaseTtlMs: 30_000, leaseRenewIntervalMs: 10_000, leaseSafetyMarginMs: 5000 });
  });

  it('reads the send pipeline settings with conservative defaults', () => {
    expect(loadConfig({}).messaging).toMatchObject({ sendMaxAttempts: 5, pacingMessagesPerMinute: 20, pacingMinGapPerRecipientMs: 3000, mediaMaxBytes: 16 * 1024 * 1024 });
    expect(loadConfig({ SEND_MAX_ATTEMPTS: '3', SEND_PACING_MESSAGES_PER_MINUTE: '0' }).messaging).toMatchObject({ sendMaxAttempts: 3, pacingMessagesPerMinute: 0 });
    expect(() => loadConfig({ SEND_MAX_ATTEMPTS: '0' })).toThrow(/SEND_MAX_ATTEMPTS/);
  });

  it('reads the webhook delivery settings: a schedule in ms or a scale factor of the standard one', () => {
    const config = loadConfig({ WEBHOOK_RETRY_SCHEDULE: '0, 50,100', WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_DISABLE_AFTER_MS: '300', WEBHOOK_SECRET_OVERLAP_MS: '1000' });
    expect(config.webhookDelivery).toMatchObject({ retryScheduleMs: [0, 50, 100], timeoutMs: 2000, disableAfterMs: 300, secretOverlapMs: 1000, maxInFlightPerEndpoint: 10 });
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE: 'x0.001' }).webhookDelivery.retryScheduleMs).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]);
    expect(loadConfig({}).webhookDelivery).toMatchObject({ timeoutMs: 10_000, secretOverlapMs: 86_400_000, disableAfterMs: 5 * 86_400_000 });
    expect(loadConfig({}).webhookDelivery.retryScheduleMs).toHaveLength(10);
    expect(problemsOf({ WEBHOOK_RETRY_SCHEDULE: '0,soon' })).toEqual([expect.stringContaining('WEBHOOK_RETRY_SCHEDULE')]);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: ' ' }).port).toBe(3000);
  });
});
