import { createTestDatabase } from '../support/services';
import { startEmulatorChild } from './support';
import { memoryKeyStore } from '../support/memory-key-store';
/**
 * bench:send — the two halves of sending, on PostgreSQL with each queue driver.
 *
 * (1) Enqueue: latency and throughput of accepting sends (`POST
 *     /connections/:id/send`: auth, validate, idempotent durable insert,
 *     enqueue) at a fixed request rate, open loop (each request due at its
 *     slot, latency counted from the slot). No consumer runs for the benchmark
 *     connection. The load generator runs in its own process so that both
 *     sides' CPU can be reported. The same load then GETs /health on the same
 *     gateway: the floor that the machine, HTTP and the generator set.
 * (2) End to end: `--sessions` connections linked to the emulator (pacing
 *     off), `--messages` each, from the first request to the last message
 *     counted at the recipients; then the same number of bare Baileys sockets
 *     linked to the same emulator, each sending as many messages in order with
 *     the gateway's send window (`--window`): the next one once the previous
 *     one was written, with at most that many waiting for their server ack.
 *
 * Flags: --rate R (requests/s, default 1000) --seconds S (default 20)
 *        --connections C (HTTP connections, default 50) --driver db|bullmq|both (default both)
 *        --sessions N (default 50) --messages M (per session, default 40)
 *        --topology all|split|both (end to end: one gateway process, an API process + a worker process, or each in turn; default both)
 *        --window W (end to end: sends of a session under way at once, the gateway's SEND_WINDOW_PER_CONNECTION and the bare sockets' alike; default: the product's)
 *        --skip-e2e / --skip-enqueue, --log-level L (gateway's LOG_LEVEL in the enqueue run, default warn)
 *        --key admin|connection (the API key the enqueue load uses, default admin)
 *        --cpu-prof DIR (CPU profile of the gateway, in both halves)
 *
 * The gateway and the emulator run as child processes from dist, each on a
 * temporary database (dropped at the end). Prints a table and, as the last
 * line, `RESULT {...}`; the headline figures are the BullMQ run's when there is one.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import makeWASocket, { initAuthCreds, makeCacheableSignalKeyStore, type WASocket } from '@whiskeysockets/baileys';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import pino from 'pino';
import { Pool } from 'undici';
import { parseMessagingSettings } from '../../libs/config/src/messaging-settings';
import { connectToSandbox } from '../../libs/whatsapp/src/sandbox';
import type { LoadJob } from './open-loop-child';
import type { OpenLoopResult } from './open-loop-load';

const REDIS_URL = process.env.REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL = process.env.DATABASE_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ADMIN_KEY = `bench-admin-${randomBytes(12).toString('hex')}`;
const CREDENTIALS_KEY = randomBytes(32).toString('base64');
const ROOT = path.resolve(__dirname, '../../..');
const CLOCK_TICKS_PER_SECOND = 100;
const silent = pino({ level: 'silent' });

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 || process.argv[i + 1] === undefined ? fallback : process.argv[i + 1];
}
const num = (name: string, fallback: number) => {
  const value = Number(flag(name, String(fallback)));
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const has = (name: string) => process.argv.includes(`--${name}`);

const RATE = num('rate', 1000);
const SECONDS = num('seconds', 20);
const CONNECTIONS = num('connections', 50);
type Topology = 'all' | 'split';
/** End to end: the gateway as one process (`all`), as an API process and a worker process (`split`), or both in turn. */
const TOPOLOGIES = (flag('topology', 'both') === 'both' ? ['all', 'split'] : [flag('topology', 'both')]) as Topology[];
const DRIVERS = (flag('driver', 'both') === 'both' ? ['db', 'bullmq'] : [flag('driver', 'both')]) as Array<'db' | 'bullmq'>;
const SESSIONS = num('sessions', 50);
const MESSAGES = num('messages', 40);
const LOG_LEVEL = flag('log-level', 'warn');
/** End to end: the send window per connection of the gateway and of the bare sockets; unset means the product default. */
const WINDOW = flag('window', '');
const SEND_WINDOW = WINDOW ? Number(WINDOW) : parseMessagingSettings((_name, fallback) => fallback, () => []).sendWindow;
const CPU_PROF = flag('cpu-prof', '');
/** `admin`: the ADMIN_API_KEY (checked in memory); `connection`: a stored key scoped to the connection (one indexed read per request, so revocation is immediate). */
const KEY_KIND = flag('key', 'admin') === 'connection' ? 'connection' : 'admin';

// ---------------------------------------------------------------- processes

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

/** CPU seconds (user + system) a child has used so far, from /proc. */
function cpuSecondsOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by the PostgreSQL and Redis servers on this machine (all their processes alive now). */
function servicesCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'postgres' || comm === 'redis-server') total += cpuSecondsOf(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

const children = new Set<ChildProcess>();

async function stop(child: ChildProcess): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Starts the built gateway on a free port and waits for /health. */
async function startGateway(env: Record<string, string>, nodeArgs: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'dist/apps/gateway/src/main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gateway exited (${child.exitCode}) before listening:\n${output}`);
    const healthy = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (healthy) return { child, url };
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop(child);
  throw new Error(`gateway did not answer /health within 60 s:\n${output}`);
}

async function startEmulator(): Promise<{ child: ChildProcess; url: string }> {
  const nodeArgs = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, `--cpu-prof-name=emulator-${Date.now()}.cpuprofile`] : [];
  const emulator = await startEmulatorChild(nodeArgs);
  children.add(emulator.child);
  return emulator;
}

function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  return createTestDatabase('bench_send', POSTGRES_URL);
}

async function obliterateQueues(prefix: string, sessionIds: string[]): Promise<void> {
  for (const id of sessionIds) {
    const queue = new Queue(`message-send.${id}`, { connection: { url: REDIS_URL }, prefix });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

const gatewayEnv = (driver: 'db' | 'bullmq', databaseUrl: string, prefix: string): Record<string, string> => ({
  DATABASE_URL: databaseUrl,
  ...(driver === 'bullmq' && { REDIS_URL, QUEUE_PREFIX: prefix }),
  ADMIN_API_KEY: ADMIN_KEY,
  CREDENTIALS_KEY,
  RATE_LIMIT_MAX: '1000000',
});

// ---------------------------------------------------------------- (1) enqueue

/** Runs the load generator in its own process; `onWarm` runs between the warm-up and the measured run, which starts when it is done. */
function load(job: LoadJob, onWarm: () => void | Promise<void>): Promise<{ result: OpenLoopResult; cpuSeconds: number }> {
  const child = fork(path.join(__dirname, 'open-loop-child.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  child.send(job);
  return new Promise((resolve, reject) => {
    child.on('message', (message: { warm?: boolean; result?: OpenLoopResult; cpuSeconds?: number }) => {
      if (message.warm) void Promise.resolve(onWarm()).then(() => child.send({ go: true }), reject);
      else resolve(message as { result: OpenLoopResult; cpuSeconds: number });
    });
    child.once('exit', (code) => {
      children.delete(child);
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
  });
}

interface EnqueueResult {
  driver: string;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  /** The load generator's worst lag behind its schedule (ms), included in the latencies. */
  schedulerLag: number;
  /** p99 counted from the actual send, without the generator's own lateness. */
  p99FromSend: number;
  stored: number;
  gatewayCpu: number;
  loadCpu: number;
  /** The same load on GET /health of the same gateway: what the machine, HTTP and the load generator alone cost. */
  floor: { p50: number; p99: number };
  /** The gateway's event-loop delay during the measured run (ms) and its garbage collector's pauses (count, total ms, by kind). */
  loop: { p99: number; max: number };
  gc: Record<string, { count: number; ms: number }>;
  /** The shared writes of accepted sends during the run, by stage: how many, their mean (ms), and how many took over 10 and 25 ms. */
  writes: Record<string, { count: number; meanMs: number; over10Ms: number; over25Ms: number }>;
  /** The same for the send route as the gateway timed it (Fastify, from the request's arrival to the end of the response): what the generator's figures add to it is the machine's. */
  inGateway: { count: number; meanMs: number; over10Ms: number; over25Ms: number; over100Ms: number };
}

/** The gateway's own metrics: the event-loop delay histogram is reset at each scrape, GC pauses are cumulative. */
/** Cumulative observations of one histogram, by label value: count, sum (s), and how many took longer than each bucket bound. */
type HistogramTotals = Record<string, { count: number; sum: number; le: Record<string, number> }>;

function histogramOf(text: string, name: string, label: string): HistogramTotals {
  const totals: HistogramTotals = {};
  for (const [, field, labels, figure] of text.matchAll(new RegExp(`^${name}_(bucket|sum|count)\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const attrs = Object.fromEntries([...labels.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const entry = (totals[attrs[label] ?? ''] ??= { count: 0, sum: 0, le: {} });
    if (field === 'bucket') entry.le[attrs.le] = Number(figure);
    else entry[field as 'count' | 'sum'] = Number(figure);
  }
  return totals;
}

async function scrapeRuntime(url: string): Promise<{ loopP99: number; loopMax: number; gc: Record<string, { count: number; seconds: number }>; writes: HistogramTotals; routes: HistogramTotals }> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const gc: Record<string, { count: number; seconds: number }> = {};
  for (const [, field, kind, figure] of text.matchAll(/^nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\} (\S+)$/gm)) {
    gc[kind] ??= { count: 0, seconds: 0 };
    if (field === 'sum') gc[kind].seconds = Number(figure);
    else gc[kind].count = Number(figure);
  }
  return { loopP99: value('nodejs_eventloop_lag_p99_seconds') * 1000, loopMax: value('nodejs_eventloop_lag_max_seconds') * 1000, gc, writes: histogramOf(text, 'send_accept_write_seconds', 'stage'), routes: histogramOf(text, 'http_request_duration_seconds', 'route') };
}

async function runEnqueue(driver: 'db' | 'bullmq'): Promise<EnqueueResult> {
  const database = await createDatabase();
  const prefix = `bench-send-${randomBytes(3).toString('hex')}`;
  let child: ChildProcess | undefined;
  let sessionId = '';
  try {
    const nodeArgs = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, `--cpu-prof-name=gateway-${driver}-${Date.now()}.cpuprofile`] : [];
    const gateway = await startGateway({ ...gatewayEnv(driver, database.url, prefix), LOG_LEVEL }, nodeArgs);
    child = gateway.child;
    const db = new Client({ connectionString: database.url });
    await db.connect();
    // A connection nobody runs a socket for: sends are stored and queued, never consumed.
    sessionId = (await db.query(`INSERT INTO sessions (label, status, desired_state) VALUES ('bench', 'connected', 'stopped') RETURNING id`)).rows[0].id;
    const key =
      KEY_KIND === 'admin'
        ? ADMIN_KEY
        : (await http<{ key: string }>(`${gateway.url}/api-keys`, { method: 'POST', key: ADMIN_KEY, body: { name: 'bench', role: 'connection', sessionId } })).key;

    const gatewayPid = child.pid;
    let cpuBefore = 0;
    let started = 0;
    let runtimeBefore: Awaited<ReturnType<typeof scrapeRuntime>> | undefined;
    const { result, cpuSeconds } = await load({ url: gateway.url, kind: 'send', path: `/connections/${sessionId}/send`, key, connections: CONNECTIONS, rate: RATE, seconds: SECONDS }, async () => {
      runtimeBefore = await scrapeRuntime(gateway.url);
      cpuBefore = cpuSecondsOf(gatewayPid);
      started = Date.now();
    });
    const gatewayCpu = cpuSecondsOf(child.pid) - cpuBefore;
    const wall = (Date.now() - started) / 1000;
    const runtime = await scrapeRuntime(gateway.url);
    const before = runtimeBefore!;
    const gcBefore = before.gc;
    const during = (after: HistogramTotals[string] | undefined, earlier: HistogramTotals[string] | undefined) => {
      const [a, e] = [after ?? { count: 0, sum: 0, le: {} }, earlier ?? { count: 0, sum: 0, le: {} }];
      const count = a.count - e.count;
      const over = (le: string) => count - ((a.le[le] ?? 0) - (e.le[le] ?? 0));
      return { count, meanMs: round(count ? ((a.sum - e.sum) / count) * 1000 : 0, 2), over10Ms: over('0.01'), over25Ms: over('0.025'), over100Ms: over('0.1') };
    };
    const writes = Object.fromEntries(
      Object.entries(runtime.writes).map(([stage, after]) => {
        const { over100Ms: _, ...figures } = during(after, before.writes[stage]);
        return [stage, figures];
      }),
    );
    const sendRoute = '/connections/:id/send';
    const inGateway = during(runtime.routes[sendRoute], before.routes[sendRoute]);
    const gc = Object.fromEntries(
      Object.entries(runtime.gc).map(([kind, after]) => [kind, { count: after.count - (gcBefore[kind]?.count ?? 0), ms: round((after.seconds - (gcBefore[kind]?.seconds ?? 0)) * 1000, 0) }]),
    );
    const stored = Number((await db.query(`SELECT count(*) FROM messages WHERE session_id = $1`, [sessionId])).rows[0].count);
    await db.end();
    const floor = (await load({ url: gateway.url, kind: 'floor', path: '/health', key, connections: CONNECTIONS, rate: RATE, seconds: Math.min(SECONDS, 10) }, () => undefined)).result;
    return {
      driver,
      requests: result.requests,
      rps: result.rps,
      p50: result.latencyMs.p50,
      p90: result.latencyMs.p90,
      p99: result.latencyMs.p99,
      max: result.latencyMs.max,
      non2xx: result.non2xx,
      errors: result.errors,
      schedulerLag: result.maxSchedulerLagMs,
      p99FromSend: result.fromSendMs.p99,
      stored,
      gatewayCpu: round((gatewayCpu / wall) * 100, 0),
      loadCpu: round((cpuSeconds / SECONDS) * 100, 0),
      floor: { p50: floor.latencyMs.p50, p99: floor.latencyMs.p99 },
      loop: { p99: round(runtime.loopP99, 1), max: round(runtime.loopMax, 1) },
      gc,
      writes,
      inGateway,
    };
  } finally {
    if (child) await stop(child);
    if (driver === 'bullmq' && sessionId) await obliterateQueues(prefix, [sessionId]);
    await database.drop();
  }
}

// ---------------------------------------------------------------- (2) end to end

const NO_PACING = { pacing: { messagesPerMinute: 0, minGapPerRecipientMs: 0 } };

async function http<T>(url: string, init: { method?: string; body?: unknown; key?: string } = {}): Promise<T> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { ...(init.body !== undefined && { 'content-type': 'application/json' }), ...(init.key && { authorization: `Bearer ${init.key}` }) },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function until<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 60_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function inLanes<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  }));
}

/** Messages received by these phones so far, in one request to the emulator. */
async function receivedBy(emulatorUrl: string, phones: Set<string>): Promise<number> {
  const { items } = await http<{ items: Array<{ phoneNumber: string; received: number }> }>(`${emulatorUrl}/v1/phones`);
  return items.filter((p) => phones.has(p.phoneNumber)).reduce((sum, p) => sum + p.received, 0);
}

async function createPhones(emulatorUrl: string, count: number): Promise<string[]> {
  const base = 100_000_000 + Math.floor(Math.random() * 800_000_000);
  const numbers = Array.from({ length: count }, (_, i) => `5511${base + i}`);
  await inLanes(numbers, 8, async (phoneNumber) => {
    await http(`${emulatorUrl}/v1/phones`, { method: 'POST', body: { phoneNumber } });
  });
  return numbers;
}

interface Delivery {
  messages: number;
  seconds: number;
  msgsPerSec: number;
  cpu: Record<string, number>;
  /** PostgreSQL transactions committed per message in the gateway's database while it ran (each statement outside a transaction is one). */
  commitsPerMessage?: number;
  /** Where a gateway send's time goes, averaged (ms): queued -> sending, sending -> server ack, and from one attempt of a session to its next (with a window, attempts overlap). */
  phases?: { queuedToSending: number; sendingToSent: number; sendingToNextSending: number };
}

async function commitsOf(databaseUrl: string): Promise<number> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    // Statistics are sent by each backend when it goes idle; ask for a fresh snapshot.
    await db.query(`SELECT pg_stat_clear_snapshot()`);
    const { rows } = await db.query(`SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`);
    return Number(rows[0].xact_commit);
  } finally {
    await db.end();
  }
}

/** Averages of the status times the gateway recorded, to see which phase of a send costs. */
async function phasesOf(databaseUrl: string): Promise<Delivery['phases']> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query(`
      WITH t AS (
        SELECT session_id, (status_times->>'queued')::timestamptz AS queued, (status_times->>'sending')::timestamptz AS sending,
               (status_times->>'sent')::timestamptz AS sent
        FROM messages WHERE direction = 'out'),
      n AS (SELECT *, lead(sending) OVER (PARTITION BY session_id ORDER BY sending) AS next_sending FROM t)
      SELECT avg(extract(epoch FROM sending - queued)) * 1000 AS a, avg(extract(epoch FROM sent - sending)) * 1000 AS b,
             avg(extract(epoch FROM next_sending - sending)) * 1000 AS c FROM n`);
    return { queuedToSending: round(Number(rows[0].a), 1), sendingToSent: round(Number(rows[0].b), 1), sendingToNextSending: round(Number(rows[0].c), 1) };
  } finally {
    await db.end();
  }
}

/** Gateway sessions: link each to its phone, then send `MESSAGES` each through the API and count them at the recipients. */
async function gatewayEndToEnd(driver: 'db' | 'bullmq', topology: Topology, emulator: { child: ChildProcess; url: string }): Promise<Delivery> {
  const database = await createDatabase();
  const prefix = `bench-send-${randomBytes(3).toString('hex')}`;
  let child: ChildProcess | undefined;
  let worker: ChildProcess | undefined;
  const sessionIds: string[] = [];
  try {
    const nodeArgs = (role: string) => (CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, `--cpu-prof-name=gateway-e2e-${driver}-${role}-${Date.now()}.cpuprofile`] : []);
    // The product's poll intervals: the worker's background statements are part of what a send costs.
    const env = { ...gatewayEnv(driver, database.url, prefix), WA_SANDBOX_URL: emulator.url, SEND_WINDOW_PER_CONNECTION: String(SEND_WINDOW) };
    // `split`: the API in one process and the sessions in another, as deployed to scale out (docker-compose.yml).
    const gateway = await startGateway({ ...env, ROLE: topology === 'split' ? 'api' : 'all' }, nodeArgs(topology === 'split' ? 'api' : 'all'));
    child = gateway.child;
    if (topology === 'split') worker = (await startGateway({ ...env, ROLE: 'worker' }, nodeArgs('worker'))).child;
    const gatewayCpu = () => cpuSecondsOf(child!.pid) + cpuSecondsOf(worker?.pid);
    const own = await createPhones(emulator.url, SESSIONS);
    const recipients = await createPhones(emulator.url, SESSIONS);
    const api = (p: string, init: { method?: string; body?: unknown } = {}) => http<any>(`${gateway.url}${p}`, { ...init, key: ADMIN_KEY });
    await inLanes(own, 8, async (phoneNumber) => {
      const { sessionId } = await api('/connections', { method: 'POST', body: { label: `bench ${phoneNumber}`, config: NO_PACING } });
      sessionIds.push(sessionId);
      const { qr } = await until(async () => {
        const c = await api(`/connections/${sessionId}`);
        return c.status === 'qr' ? api(`/connections/${sessionId}/qr`) : undefined;
      }, `a QR for ${sessionId}`);
      await http(`${emulator.url}/v1/phones/${phoneNumber}/link`, { method: 'POST', body: { qr } });
      await until(async () => (await api(`/connections/${sessionId}`)).status === 'connected' || undefined, `${sessionId} connected`);
    });
    // Sessions are paired with recipients by index, as in the bare run.
    const ordered = own.map((_, i) => sessionIds[i]);
    const recipientSet = new Set(recipients);
    const before = await receivedBy(emulator.url, recipientSet);
    const total = SESSIONS * MESSAGES;
    const commitsBefore = await commitsOf(database.url);
    const cpu = { gateway: gatewayCpu(), services: servicesCpuSeconds(), emulator: cpuSecondsOf(emulator.child.pid), bench: process.cpuUsage() };
    const started = Date.now();
    const sends = ordered.flatMap((sessionId, s) =>
      Array.from({ length: MESSAGES }, (_, m) => ({ sessionId, body: { messageId: randomUUID(), to: recipients[s], type: 'text', body: `e2e ${s}/${m}` } })),
    );
    // Interleaved so every session has work from the start.
    sends.sort((a, b) => Number(a.body.body.split('/')[1]) - Number(b.body.body.split('/')[1]));
    // A keep-alive pool: the bench's own HTTP client shares the two cores with everything measured, so it should be cheap.
    const pool = new Pool(gateway.url, { connections: CONNECTIONS });
    const headers = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
    const accepting = inLanes(sends, CONNECTIONS, async ({ sessionId, body }) => {
      const response = await pool.request({ method: 'POST', path: `/connections/${sessionId}/send`, headers, body: JSON.stringify(body) });
      const text = await response.body.text();
      if (response.statusCode !== 202) throw new Error(`send: ${response.statusCode} ${text}`);
    }).finally(() => pool.close());
    let acceptError: unknown;
    accepting.catch((error) => (acceptError = error));
    await until(async () => {
      if (acceptError) throw acceptError;
      return (await receivedBy(emulator.url, recipientSet)) - before >= total || undefined;
    }, `${total} messages at the recipients`, 180_000, 100);
    const seconds = (Date.now() - started) / 1000;
    await accepting;
    const bench = process.cpuUsage(cpu.bench);
    const phases = await phasesOf(database.url);
    // Backends report their counts when idle, at most once a second.
    await new Promise((r) => setTimeout(r, 1100));
    const commitsPerMessage = round(((await commitsOf(database.url)) - commitsBefore) / total, 1);
    return {
      messages: total,
      seconds,
      msgsPerSec: round(total / seconds, 0),
      phases,
      commitsPerMessage,
      cpu: {
        gateway: round(gatewayCpu() - cpu.gateway, 1),
        services: round(servicesCpuSeconds() - cpu.services, 1),
        emulator: round(cpuSecondsOf(emulator.child.pid) - cpu.emulator, 1),
        bench: round((bench.user + bench.system) / 1e6, 1),
      },
    };
  } finally {
    if (worker) await stop(worker);
    if (child) await stop(child);
    if (driver === 'bullmq') await obliterateQueues(prefix, sessionIds);
    await database.drop();
  }
}


/** A bare Baileys socket linked to `phoneNumber`, open (after the 515 restart), with its server acks observable. */
function bareSocket(wsUrl: string, controlUrl: string, phoneNumber: string): Promise<{ sock: WASocket; acked: Map<string, () => void> }> {
  const creds = initAuthCreds();
  const keys = makeCacheableSignalKeyStore(memoryKeyStore(), silent);
  const acked = new Map<string, () => void>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${phoneNumber}: not open after 60 s`)), 60_000);
    const connect = () => {
      const sock = makeWASocket({ waWebSocketUrl: wsUrl, auth: { creds, keys }, logger: silent, markOnlineOnConnect: false, getMessage: async () => undefined });
      sock.ev.on('creds.update', (update) => Object.assign(creds, update));
      sock.ws.on('CB:ack,class:message', (node: { attrs: Record<string, string> }) => acked.get(node.attrs.id)?.());
      sock.ev.on('connection.update', (update) => {
        if (update.qr) http(`${controlUrl}/v1/phones/${phoneNumber}/link`, { method: 'POST', body: { qr: update.qr } }).catch(reject);
        if (update.connection === 'open') {
          clearTimeout(timer);
          resolve({ sock, acked });
        }
        if (update.connection === 'close') {
          const code = (update.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode;
          if (code === 515) connect();
          else if (code !== undefined) {
            clearTimeout(timer);
            reject(new Error(`${phoneNumber}: closed with ${code}`));
          }
        }
      });
    };
    connect();
  });
}

/**
 * The same shape of work on bare Baileys in this process: one socket per
 * phone, each sending its messages in order with the gateway's window: the
 * next `sendMessage` once the previous one was written, with at most
 * `SEND_WINDOW` messages waiting for their server ack.
 */
async function bareEndToEnd(emulator: { child: ChildProcess; url: string }): Promise<Delivery> {
  const { waWebSocketUrl } = await connectToSandbox({ sandboxUrl: emulator.url, timeoutMs: 10_000 });
  const own = await createPhones(emulator.url, SESSIONS);
  const recipients = await createPhones(emulator.url, SESSIONS);
  const sockets: WASocket[] = [];
  try {
    const linked = new Array<{ sock: WASocket; acked: Map<string, () => void> }>(SESSIONS);
    await inLanes(own, 8, async (phoneNumber, i) => {
      linked[i] = await bareSocket(waWebSocketUrl, emulator.url, phoneNumber);
      sockets.push(linked[i].sock);
    });
    const recipientSet = new Set(recipients);
    const before = await receivedBy(emulator.url, recipientSet);
    const total = SESSIONS * MESSAGES;
    const cpu = { emulator: cpuSecondsOf(emulator.child.pid), services: servicesCpuSeconds(), bench: process.cpuUsage() };
    const started = Date.now();
    await Promise.all(
      linked.map(async ({ sock, acked }, s) => {
        const jid = `${recipients[s]}@s.whatsapp.net`;
        const unacked: Array<Promise<void>> = [];
        for (let m = 0; m < MESSAGES; m++) {
          if (unacked.length >= SEND_WINDOW) await unacked.shift();
          const id = randomBytes(8).toString('hex').toUpperCase();
          const ack = new Promise<void>((resolve) => acked.set(id, resolve));
          await sock.sendMessage(jid, { text: `bare ${s}/${m}` }, { messageId: id });
          unacked.push(ack.then(() => void acked.delete(id)));
        }
        await Promise.all(unacked);
      }),
    );
    await until(async () => (await receivedBy(emulator.url, recipientSet)) - before >= total || undefined, `${total} bare messages at the recipients`, 180_000, 100);
    const seconds = (Date.now() - started) / 1000;
    const bench = process.cpuUsage(cpu.bench);
    return {
      messages: total,
      seconds,
      msgsPerSec: round(total / seconds, 0),
      cpu: { emulator: round(cpuSecondsOf(emulator.child.pid) - cpu.emulator, 1), services: round(servicesCpuSeconds() - cpu.services, 1), bench: round((bench.user + bench.system) / 1e6, 1) },
    };
  } finally {
    for (const sock of sockets) {
      try {
        sock.end(undefined);
      } catch {
        // already closed
      }
    }
  }
}

// ---------------------------------------------------------------- report

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

function table(rows: Array<Array<string | number>>): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  return rows.map((row) => row.map((cell, i) => String(cell).padStart(widths[i])).join('  ')).join('\n');
}

/** libsignal prints session bookkeeping with console.*; keep the bench's output readable. */
function muteLibsignal(): void {
  const noisy = /^(Closing session|Closing open session|Opening session|Removing old closed session|Session already|Decrypted message with closed session|Migrating session)/;
  for (const level of ['info', 'warn', 'log', 'error'] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && noisy.test(args[0])) return;
      original(...args);
    };
  }
}

async function main(): Promise<void> {
  muteLibsignal();
  const enqueue: EnqueueResult[] = [];
  if (!has('skip-enqueue')) {
    for (const driver of DRIVERS) {
      process.stdout.write(`enqueue, ${driver}: ${RATE} req/s for ${SECONDS} s over ${CONNECTIONS} connections (gateway LOG_LEVEL=${LOG_LEVEL}, ${KEY_KIND} key)...\n`);
      enqueue.push(await runEnqueue(driver));
    }
    process.stdout.write(
      `${table([
        ['driver', 'requests', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors', 'stored', 'gateway cpu %', 'load gen cpu %', 'load gen lag ms', 'p99 from send ms', 'GET /health p50 ms', 'GET /health p99 ms'],
        ...enqueue.map((r) => [r.driver, r.requests, r.rps, r.p50, r.p90, r.p99, r.max, r.non2xx, r.errors, r.stored, r.gatewayCpu, r.loadCpu, r.schedulerLag, r.p99FromSend, r.floor.p50, r.floor.p99]),
      ])}\n`,
    );
    for (const r of enqueue) {
      const pauses = Object.entries(r.gc).map(([kind, g]) => `${kind} ${g.count} (${g.ms} ms)`).join(', ');
      const writes = Object.entries(r.writes).map(([stage, w]) => `${stage} ${w.count} (mean ${w.meanMs} ms, ${w.over10Ms} over 10 ms, ${w.over25Ms} over 25 ms)`).join(', ');
      const g = r.inGateway;
      process.stdout.write(`${r.driver}: gateway event-loop delay p99 ${r.loop.p99} ms, max ${r.loop.max} ms; GC pauses ${pauses}; shared writes ${writes}\n`);
      process.stdout.write(`${r.driver}: sends as the gateway timed them ${g.count} (mean ${g.meanMs} ms, ${g.over10Ms} over 10 ms, ${g.over25Ms} over 25 ms, ${g.over100Ms} over 100 ms)\n`);
    }
  }

  const e2e: Array<{ driver: string; topology: Topology; delivery: Delivery }> = [];
  let bare: Delivery | undefined;
  if (!has('skip-e2e')) {
    const emulator = await startEmulator();
    try {
      await connectToSandbox({ sandboxUrl: emulator.url, timeoutMs: 10_000 });
      for (const topology of TOPOLOGIES) {
        for (const driver of DRIVERS) {
          process.stdout.write(`end to end, ${driver}, ${topology === 'all' ? 'one process' : 'api + worker'}: ${SESSIONS} sessions x ${MESSAGES} messages, pacing off, send window ${SEND_WINDOW}...\n`);
          e2e.push({ driver, topology, delivery: await gatewayEndToEnd(driver, topology, emulator) });
        }
      }
      process.stdout.write(`bare Baileys: ${SESSIONS} sockets x ${MESSAGES} messages, send window ${SEND_WINDOW}...\n`);
      bare = await bareEndToEnd(emulator);
    } finally {
      await stop(emulator.child);
    }
    process.stdout.write(
      `${table([
        ['run', 'messages', 'seconds', 'msgs/s', 'gateway cpu s', 'emulator cpu s', 'postgres+redis cpu s', 'bench cpu s'],
        ...e2e.map(({ driver, topology, delivery: d }) => [`gateway ${driver} ${topology}`, d.messages, round(d.seconds, 1), d.msgsPerSec, d.cpu.gateway, d.cpu.emulator, d.cpu.services, d.cpu.bench]),
        ...(bare ? [['bare Baileys', bare.messages, round(bare.seconds, 1), bare.msgsPerSec, '-', bare.cpu.emulator, bare.cpu.services, bare.cpu.bench]] : []),
      ])}\n`,
    );
    for (const { driver, topology, delivery } of e2e) {
      const p = delivery.phases;
      if (p) process.stdout.write(`gateway ${driver} ${topology}, average ms per send: queued->sending ${p.queuedToSending}, sending->server ack ${p.sendingToSent}, sending->the session's next sending ${p.sendingToNextSending}; ${delivery.commitsPerMessage} commits per message\n`);
    }
  }

  process.stdout.write(`machine: ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min; other work on the machine shows here)\n`);
  // The target is on PostgreSQL + Redis: report the BullMQ runs when there are some.
  const headline = enqueue.find((r) => r.driver === 'bullmq') ?? enqueue[0];
  const best = (runs: typeof e2e) => [...runs].sort((a, b) => b.delivery.msgsPerSec - a.delivery.msgsPerSec)[0];
  const e2eBest = best(e2e.filter((r) => r.driver === 'bullmq')) ?? best(e2e);
  const e2eHeadline = e2eBest?.delivery;
  const summary = {
    enqueueRps: headline?.rps ?? null,
    enqueueP50Ms: headline?.p50 ?? null,
    enqueueP99Ms: headline?.p99 ?? null,
    e2eMsgsPerSec: e2eHeadline?.msgsPerSec ?? null,
    bareMsgsPerSec: bare?.msgsPerSec ?? null,
    ratio: e2eHeadline && bare ? round(e2eHeadline.msgsPerSec / bare.msgsPerSec, 2) : null,
    driver: headline?.driver ?? null,
    e2eRun: e2eBest ? `${e2eBest.driver} ${e2eBest.topology}` : null,
    rate: RATE,
    seconds: SECONDS,
    key: KEY_KIND,
    logLevel: LOG_LEVEL,
    loadAverage: loadavg().map((l) => round(l, 1)),
    sessions: SESSIONS,
    messages: MESSAGES,
    sendWindow: SEND_WINDOW,
    enqueue: Object.fromEntries(enqueue.map((r) => [r.driver, { rps: r.rps, p50Ms: r.p50, p99Ms: r.p99, p99FromSendMs: r.p99FromSend, non2xx: r.non2xx, stored: r.stored, gatewayCpuPct: r.gatewayCpu, loadCpuPct: r.loadCpu, healthP50Ms: r.floor.p50, healthP99Ms: r.floor.p99 }])),
    e2e: Object.fromEntries(e2e.map((r) => [`${r.driver} ${r.topology}`, r.delivery.msgsPerSec])),
  };
  process.stdout.write(`RESULT ${JSON.stringify(summary)}\n`);
}

main().then(
  // Baileys leaves timers behind (pre-key upload race); every child is stopped, so the bench ends here.
  () => process.exit(0),
  async (error) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    for (const child of [...children]) await stop(child);
    process.exit(1);
  },
);
