import fs from 'node:fs';
import path from 'node:path';
import { ChildGateway, spawnGateway, tempDir, TEST_ADMIN_KEY, TEST_CREDENTIALS_KEY, untilListening } from '../support/gateway';
import { createTestDatabase, describeWithServices, TEST_POSTGRES_URL, TEST_REDIS_URL, waitFor } from '../support/services';
import { TcpProxy } from '../support/tcp-proxy';

const running: ChildGateway[] = [];
const spawnTracked = (env: Record<string, string>, entry?: string) => {
  const gw = spawnGateway(env, entry);
  running.push(gw);
  return gw;
};
afterAll(async () => {
  await Promise.all(running.map((gw) => gw.stop('SIGKILL')));
});

describe('embedded mode (role all)', () => {
  it('boots with nothing configured, generates its keys once, serves api and worker routes', async () => {
    const dataDir = tempDir();
    const gw = spawnTracked({ DATA_DIR: dataDir });
    const url = await untilListening(gw);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    const key = /Generated admin API key[^\n]*\n\s*\n\s*(wak_\S+)/.exec(gw.output())?.[1];
    expect(key).toBeDefined();
    expect((await fetch(`${url}/connections`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    const keyFile = path.join(dataDir, 'credentials.key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(Buffer.from(fs.readFileSync(keyFile, 'utf8').trim(), 'base64')).toHaveLength(32);
    // The key is printed exactly once; request logs carry a request id and redact credentials.
    expect(gw.output().match(/wak_/g)).toHaveLength(1);
    await fetch(`${url}/connections`, { headers: { authorization: `Bearer ${key}`, 'x-api-key': key!, 'x-request-id': 'trace-me-42' } });
    const line = await waitFor(() => gw.output().split('\n').find((l) => l.includes('"trace-me-42"') && l.includes('"res"')), { what: 'the request log line' });
    expect(JSON.parse(line)).toMatchObject({ req: { id: 'trace-me-42', headers: { authorization: '[redacted]', 'x-api-key': '[redacted]' } }, role: 'all', service: 'wa-gateway' });

    // A second process on the same DATA_DIR refuses to start instead of corrupting the database.
    const second = spawnTracked({ DATA_DIR: dataDir });
    const { code } = await second.exited;
    expect(code).toBe(73);
    expect(second.output()).toContain(`DATA_DIR ${dataDir} is in use by process ${gw.child.pid}`);
    expect((await fetch(`${url}/health`)).status).toBe(200);

    // SIGTERM: drains and exits 0 well within 10 s.
    const stopping = Date.now();
    expect(await gw.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(Date.now() - stopping).toBeLessThan(10000);

    // Restart: same key still valid, no new key printed, the credentials key is kept.
    const before = fs.readFileSync(keyFile, 'utf8');
    const again = spawnTracked({ DATA_DIR: dataDir });
    const url2 = await untilListening(again);
    expect(again.output()).not.toContain('Generated admin API key');
    expect((await fetch(`${url2}/connections`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    expect(fs.readFileSync(keyFile, 'utf8')).toBe(before);
    expect(await again.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });

  it('takes over the directory of a process that was killed', async () => {
    const dataDir = tempDir();
    const first = spawnTracked({ DATA_DIR: dataDir, ADMIN_API_KEY: TEST_ADMIN_KEY });
    await untilListening(first);
    await first.stop('SIGKILL');
    const second = spawnTracked({ DATA_DIR: dataDir, ADMIN_API_KEY: TEST_ADMIN_KEY });
    const url = await untilListening(second);
    expect((await fetch(`${url}/ready`)).status).toBe(200);
  });

  it('exits 78 naming every bad variable', async () => {
    const gw = spawnTracked({ PORT: 'x', ROLE: 'chef', LOG_LEVEL: 'shout', REDIS_URL: 'http://nope' });
    const { code } = await gw.exited;
    expect(code).toBe(78);
    for (const name of ['PORT', 'ROLE', 'LOG_LEVEL', 'REDIS_URL']) expect(gw.output()).toContain(name);
    expect(gw.output()).not.toContain('    at '); // a message, not a stack trace
  });
});

describeWithServices(['postgres', 'redis'], 'distributed mode (roles api and worker on PostgreSQL and Redis)', () => {
  let db: { url: string; drop: () => Promise<void> };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(running.map((gw) => gw.stop('SIGKILL')));
    await db?.drop();
  });

  const env = () => ({ DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, ADMIN_API_KEY: TEST_ADMIN_KEY, CREDENTIALS_KEY: TEST_CREDENTIALS_KEY });

  it('boots api and worker entry points; only the api serves the REST API', async () => {
    const api = spawnTracked(env(), 'apps/api/src/main.ts');
    const apiUrl = await untilListening(api);
    const worker = spawnTracked(env(), 'apps/worker/src/main.ts');
    const workerUrl = await untilListening(worker);
    expect(api.output()).toContain('role=api mode=distributed');
    expect(worker.output()).toContain('role=worker mode=distributed');
    const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
    expect((await fetch(`${apiUrl}/connections`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${workerUrl}/connections`, { headers: auth })).status).toBe(404);
    for (const url of [apiUrl, workerUrl]) {
      const ready = (await (await fetch(`${url}/ready`)).json()) as { details: Record<string, { status: string }> };
      expect(ready.details.database.status).toBe('up');
      expect(ready.details.redis.status).toBe('up');
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
    }
    expect((await fetch(`${workerUrl}/docs/json`)).status).toBe(404);
    const [a, w] = await Promise.all([api.stop(), worker.stop()]);
    expect([a.code, w.code]).toEqual([0, 0]);
  });

  it('npm run migrate applies the schema to an empty database, then finds nothing to do', async () => {
    const empty = await createTestDatabase();
    try {
      const run = async () => {
        const gw = spawnTracked({ DATABASE_URL: empty.url, CREDENTIALS_KEY: TEST_CREDENTIALS_KEY }, 'apps/gateway/src/migrate.ts');
        const { code } = await gw.exited;
        return { code, output: gw.output() };
      };
      const first = await run();
      expect(first.code).toBe(0);
      expect(first.output).toContain('applied: ');
      expect(first.output).toContain('InitialSchema');
      const second = await run();
      expect(second).toEqual({ code: 0, output: 'schema is up to date\n' });
    } finally {
      await empty.drop();
    }
  });

  it('/ready turns 503 with details when PostgreSQL becomes unreachable', async () => {
    const target = new URL(TEST_POSTGRES_URL);
    const proxy = await new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) }).start();
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    const gw = spawnTracked({ ...env(), DATABASE_URL: viaProxy.toString(), REDIS_URL: '' });
    const url = await untilListening(gw);
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    await proxy.cut();
    const res = await waitFor(async () => {
      const r = await fetch(`${url}/ready`);
      return r.status === 503 ? r : undefined;
    }, { timeoutMs: 15000, what: '/ready to report 503' });
    const problem = (await res.json()) as { code: string; checks: Record<string, { status: string }> };
    expect(problem.code).toBe('NOT_READY');
    expect(problem.checks.database.status).toBe('down');
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const { code } = await gw.stop();
    expect(code).not.toBeNull();
  });
});
