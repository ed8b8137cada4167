import { createTestDatabase } from '../support/services';
import { linkBareSocket, startEmulatorChild } from './support';
/**
 * bench:sessions — links N sessions through the gateway's HTTP API to the
 * emulator, all in ONE gateway process (role all), and measures:
 *   - secondsToConnect: from the first POST /connections until all N read `connected`;
 *   - rssMbPerSession: the gateway's RSS above its empty process, per session
 *     (VmRSS from /proc, median of a few samples, idle);
 *   - restoreSeconds: SIGTERM, start again on the same data, until all N read
 *     `connected` again, with no QR on the way (asserted and reported);
 *   - bareRssMbPerSession: the same number of bare Baileys sockets (in-memory
 *     auth, no gateway) in one child process against a fresh emulator, and
 *     the ratio of the two.
 * The gateway, each emulator and the bare sockets run as child processes so
 * each one's memory and CPU are its own.
 *
 * Usage: `npm run bench:sessions -- --sessions 500 [--concurrency 8] [--db pglite|postgres]
 *         [--restore-concurrency 25] [--restore-jitter-ms 200] [--idle-seconds 10]`
 * Prints a table, then `RESULT {...}` as the last line; exits 0 when it ran.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WASocket } from '@whiskeysockets/baileys';
import { Client } from 'pg';
import pino from 'pino';
import { connectToSandbox } from '../../libs/whatsapp/src/sandbox';

const ROOT = path.resolve(__dirname, '../../..');
const POSTGRES_URL = process.env.DATABASE_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ADMIN_KEY = `bench-admin-${randomBytes(12).toString('hex')}`;
const CREDENTIALS_KEY = randomBytes(32).toString('base64');
const CLOCK_TICKS = 100; // USER_HZ on Linux
const TARGETS = { rssMbPerSession: 10, restoreSeconds: 60 };

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 || process.argv[i + 1] === undefined ? fallback : process.argv[i + 1];
}
function num(name: string, fallback: number, min = 1): number {
  const value = Number(flag(name, String(fallback)));
  if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number >= ${min}`);
  return value;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number) => bytes / 1024 / 1024;
const log = (line: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

// ---------------------------------------------------------------------------
// Everything this run starts, so that it can all be stopped on any exit.

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const cleanups: Array<() => Promise<void>> = [];

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = await exited;
  clearTimeout(timer);
  return result;
}

async function cleanUp(): Promise<void> {
  await Promise.all([...children].map((child) => stopChild(child, 'SIGTERM', 10_000)));
  for (const cleanup of cleanups.splice(0)) await cleanup().catch((error: Error) => process.stderr.write(`cleanup: ${error.message}\n`));
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// Last resort on a crash: nothing may stay behind.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`${signal}: stopping everything this bench started\n`);
    void cleanUp().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------
// Process measurements from the outside.

function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: fields count from after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** RSS cannot be taken after a forced GC from outside: the median of a few spaced samples stands in. */
async function medianRss(pid: number, samples = 5, intervalMs = 1000): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(intervalMs);
    values.push(rssBytes(pid));
  }
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)];
}

// ---------------------------------------------------------------------------
// HTTP helpers.

async function http<T>(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function ok<T>(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const response = await http<T>(url, method, body, headers);
  if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

const admin = { authorization: `Bearer ${ADMIN_KEY}` };

async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------
// Child processes: emulator, gateway, bare Baileys.

interface Emulator {
  child: ChildProcess;
  url: string;
}

async function startEmulator(): Promise<Emulator> {
  const emulator = await startEmulatorChild();
  track(emulator.child);
  return emulator;
}

interface Gateway {
  child: ChildProcess;
  url: string;
  spawnedAt: number;
  listeningAt: number;
  output: () => string;
}

function startGateway(env: Record<string, string>): Promise<Gateway> {
  const spawnedAt = Date.now();
  const child = track(
    spawn(process.execPath, [path.join(ROOT, 'dist/apps/gateway/src/main.js')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', ROLE: 'all', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  // Only the tail is kept (libsignal prints bookkeeping on stdout for every session).
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      keep(d);
      const match = /listening on port (\d+)/.exec(output);
      if (match) {
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        child.stdout!.on('data', keep);
        child.stderr!.on('data', keep);
        resolve({ child, url: `http://127.0.0.1:${match[1]}`, spawnedAt, listeningAt: Date.now(), output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}) before listening:\n${output}`)));
  });
}

async function createDatabase(): Promise<string> {
  const database = await createTestDatabase('bench_sessions', POSTGRES_URL);
  cleanups.push(database.drop);
  return database.url;
}

// ---------------------------------------------------------------------------
// The gateway side.

interface StatusCount {
  total: number;
  byStatus: Record<string, number>;
  qrIds: string[];
}

async function countStatuses(gatewayUrl: string): Promise<StatusCount> {
  const count: StatusCount = { total: 0, byStatus: {}, qrIds: [] };
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await ok<{ items: Array<{ sessionId: string; status: string }>; nextCursor: string | null }>(`${gatewayUrl}/connections?limit=200${query}`, 'GET', undefined, admin);
    for (const item of page.items) {
      count.total++;
      count.byStatus[item.status] = (count.byStatus[item.status] ?? 0) + 1;
      if (item.status === 'qr') count.qrIds.push(item.sessionId);
    }
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}

const describe = (count: StatusCount) =>
  Object.entries(count.byStatus)
    .map(([status, n]) => `${status}=${n}`)
    .join(' ');

/** One session: create it, read its QR, have its phone scan it, wait until it is connected. */
async function linkOne(gatewayUrl: string, emulatorUrl: string, phoneNumber: string, index: number): Promise<void> {
  const { sessionId } = await ok<{ sessionId: string }>(`${gatewayUrl}/connections`, 'POST', { label: `bench-${index}` }, admin);
  const connection = () => ok<{ status: string; statusReason: string | null }>(`${gatewayUrl}/connections/${sessionId}`, 'GET', undefined, admin);
  // A QR may expire while the machine is busy: read and scan again until one is accepted.
  for (let attempt = 1; ; attempt++) {
    await until(async () => (await connection()).status === 'qr', 180_000, `${sessionId} to show a QR`, 300);
    const qr = await http<{ qr: string }>(`${gatewayUrl}/connections/${sessionId}/qr`, 'GET', undefined, admin);
    if (qr.status !== 200) continue;
    const link = await http<{ error?: string }>(`${emulatorUrl}/v1/phones/${phoneNumber}/link`, 'POST', { qr: qr.body.qr });
    if (link.status === 200) break;
    if (attempt >= 3) throw new Error(`${phoneNumber}: link refused ${link.status} ${link.body?.error ?? ''}`);
  }
  await until(
    async () => {
      const c = await connection();
      if (c.status === 'failed' || c.status === 'logged_out' || c.status === 'stopped') throw new Error(`${sessionId} ended ${c.status}: ${c.statusReason}`);
      return c.status === 'connected';
    },
    300_000,
    `${sessionId} to be connected`,
    500,
  );
}

interface GatewayFigures {
  connected: number;
  linkFailures: number;
  secondsToConnect: number;
  gatewayCpuSecondsToConnect: number;
  emptyRssMb: number;
  connectedRssMb: number;
  rssMbPerSession: number;
  shutdownSeconds: number;
  shutdownExit: string;
  restored: number;
  restoreSeconds: number | null;
  restoreSecondsFromListening: number | null;
  gatewayCpuSecondsToRestore: number;
  qrSeenDuringRestore: number;
  qrEventsAfterRestart: number | null;
  restoredRssMb: number;
  emulatorRssMb: number;
  emulatorConnections: number;
  idleCpuPercent: number;
}

async function runGateway(sessions: number, concurrency: number, db: 'pglite' | 'postgres', env: Record<string, string>, idleSeconds: number): Promise<GatewayFigures> {
  const emulator = await startEmulator();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sessions-'));
  tempDirs.add(dataDir);
  const databaseUrl = db === 'postgres' ? await createDatabase() : undefined;
  const gatewayEnv = {
    ...env,
    DATA_DIR: dataDir,
    ...(databaseUrl && { DATABASE_URL: databaseUrl }),
    ADMIN_API_KEY: ADMIN_KEY,
    CREDENTIALS_KEY,
    WA_SANDBOX_URL: emulator.url,
    RATE_LIMIT_MAX: '1000000',
    // 500 sessions write `connecting` on the way out: leave the drain the maximum time.
    SHUTDOWN_TIMEOUT_MS: '60000',
  };

  // The first start creates the schema (PGlite's initdb and migrations leave a larger heap behind):
  // the empty baseline is a second start on the same data, as every later start is.
  let gateway = await startGateway(gatewayEnv);
  await until(async () => (await http(`${gateway.url}/ready`)).status === 200, 60_000, 'the gateway to be ready');
  await stopChild(gateway.child, 'SIGTERM', 90_000);
  gateway = await startGateway(gatewayEnv);
  const pid = () => gateway.child.pid!;
  await until(async () => (await http(`${gateway.url}/ready`)).status === 200, 60_000, 'the gateway to be ready');
  await sleep(2000);
  const emptyRss = await medianRss(pid());
  log(`gateway pid ${pid()} ready, empty RSS ${mb(emptyRss).toFixed(1)} MB`);

  const numbers = Array.from({ length: sessions }, (_, i) => `5521${String(700000000 + i)}`);
  for (const phoneNumber of numbers) await ok(`${emulator.url}/v1/phones`, 'POST', { phoneNumber });

  // --- link all ---
  const cpuBefore = cpuSeconds(pid());
  const started = Date.now();
  let next = 0;
  let linkFailures = 0;
  let linked = 0;
  const progress = setInterval(() => log(`linking: ${linked}/${sessions} connected, ${linkFailures} failed, ${((Date.now() - started) / 1000).toFixed(0)} s`), 15_000);
  const lane = async () => {
    while (next < sessions) {
      const i = next++;
      await linkOne(gateway.url, emulator.url, numbers[i], i).then(
        () => linked++,
        (error: Error) => {
          linkFailures++;
          process.stderr.write(`link ${numbers[i]}: ${error.message}\n`);
        },
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, sessions) }, lane)).finally(() => clearInterval(progress));
  // The figure is what the API says for all of them at once.
  const afterLink = await until(async () => {
    const count = await countStatuses(gateway.url);
    return (count.byStatus.connected ?? 0) >= sessions - linkFailures ? count : undefined;
  }, 60_000, 'every linked session to read connected', 250);
  const secondsToConnect = (Date.now() - started) / 1000;
  const gatewayCpuSecondsToConnect = cpuSeconds(pid()) - cpuBefore;
  const connected = afterLink.byStatus.connected ?? 0;
  log(`${connected}/${sessions} connected in ${secondsToConnect.toFixed(1)} s (${describe(afterLink)})`);

  // Idle CPU with every session connected: per-session timers and pollers show here.
  const idleCpuStart = cpuSeconds(pid());
  await sleep(idleSeconds * 1000);
  const connectedRss = await medianRss(pid());
  const idleCpuPercent = ((cpuSeconds(pid()) - idleCpuStart) / (idleSeconds + 4)) * 100;
  log(`connected and idle: RSS ${mb(connectedRss).toFixed(1)} MB, CPU ${idleCpuPercent.toFixed(0)} %`);

  // --- restart ---
  const stopAt = Date.now();
  const exit = await stopChild(gateway.child, 'SIGTERM', 90_000);
  const shutdownSeconds = (Date.now() - stopAt) / 1000;
  const shutdownExit = exit.signal ?? String(exit.code);
  log(`gateway stopped in ${shutdownSeconds.toFixed(1)} s (exit ${shutdownExit}); starting it again on the same data`);

  const restartAt = new Date();
  gateway = await startGateway(gatewayEnv);
  const cpuRestoreStart = 0; // a new process: its whole CPU time counts
  const qrSeen = new Set<string>();
  let lastCount: StatusCount | undefined;
  const restoreDeadline = Math.max(180_000, sessions * 600);
  const restoredCount = await until(async () => {
    const count = await countStatuses(gateway.url);
    lastCount = count;
    for (const id of count.qrIds) qrSeen.add(id);
    return (count.byStatus.connected ?? 0) >= connected ? count : undefined;
  }, restoreDeadline, 'every session to be restored', 250).catch((error: Error) => {
    process.stderr.write(`restore: ${error.message} (last: ${lastCount ? describe(lastCount) : 'none'})\n`);
    return undefined;
  });
  const restoredAt = Date.now();
  const restored = restoredCount?.byStatus.connected ?? lastCount?.byStatus.connected ?? 0;
  const restoreSeconds = restoredCount ? (restoredAt - gateway.spawnedAt) / 1000 : null;
  const restoreSecondsFromListening = restoredCount ? (restoredAt - gateway.listeningAt) / 1000 : null;
  const gatewayCpuSecondsToRestore = cpuSeconds(pid()) - cpuRestoreStart;
  log(`restore: ${restored}/${connected} connected in ${restoreSeconds?.toFixed(1) ?? '-'} s from spawn; QR seen on ${qrSeen.size}`);

  await sleep(idleSeconds * 1000);
  const restoredRss = await medianRss(pid());
  const emulatorStats = await ok<{ connections: number; rssBytes: number }>(`${emulator.url}/v1/stats`);

  let qrEventsAfterRestart: number | null = null;
  if (databaseUrl) {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    qrEventsAfterRestart = Number((await client.query(`SELECT count(*) FROM events WHERE type = 'qr' AND timestamp >= $1`, [restartAt])).rows[0].count);
    await client.end();
  }

  await stopChild(gateway.child, 'SIGTERM', 90_000);
  await stopChild(emulator.child);
  return {
    connected,
    linkFailures,
    secondsToConnect,
    gatewayCpuSecondsToConnect,
    emptyRssMb: mb(emptyRss),
    connectedRssMb: mb(connectedRss),
    rssMbPerSession: mb(connectedRss - emptyRss) / Math.max(1, connected),
    shutdownSeconds,
    shutdownExit,
    restored,
    restoreSeconds,
    restoreSecondsFromListening,
    gatewayCpuSecondsToRestore,
    qrSeenDuringRestore: qrSeen.size,
    qrEventsAfterRestart,
    restoredRssMb: mb(restoredRss),
    emulatorRssMb: mb(emulatorStats.rssBytes),
    emulatorConnections: emulatorStats.connections,
    idleCpuPercent,
  };
}

// ---------------------------------------------------------------------------
// The bare Baileys baseline: a child process (this file with --bare-child) holds the sockets.

type BareMessage = { type: 'ready' } | { type: 'linked'; opened: number; failures: number; seconds: number };

interface BareFigures {
  opened: number;
  failures: number;
  secondsToOpen: number;
  cpuSeconds: number;
  emptyRssMb: number;
  openRssMb: number;
  rssMbPerSession: number;
}

async function runBare(sessions: number, concurrency: number, idleSeconds: number): Promise<BareFigures> {
  const emulator = await startEmulator();
  const numbers = Array.from({ length: sessions }, (_, i) => `5531${String(700000000 + i)}`);
  for (const phoneNumber of numbers) await ok(`${emulator.url}/v1/phones`, 'POST', { phoneNumber });
  const child = track(fork(__filename, ['--bare-child'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  const messages: BareMessage[] = [];
  const waiters: Array<() => void> = [];
  child.on('message', (message: BareMessage) => {
    messages.push(message);
    for (const wake of waiters.splice(0)) wake();
  });
  const receive = async <T extends BareMessage['type']>(type: T, timeoutMs: number): Promise<Extract<BareMessage, { type: T }>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.find((m) => m.type === type);
      if (found) return found as Extract<BareMessage, { type: T }>;
      if (child.exitCode !== null) throw new Error(`bare child exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`bare child: no ${type} after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 1000);
      });
    }
  };
  try {
    child.send({ controlUrl: emulator.url });
    await receive('ready', 30_000);
    await sleep(2000);
    const emptyRss = await medianRss(child.pid!);
    const cpuBefore = cpuSeconds(child.pid!);
    child.send({ numbers, concurrency });
    const linked = await receive('linked', Math.max(600_000, sessions * 3000));
    const cpu = cpuSeconds(child.pid!) - cpuBefore;
    await sleep(idleSeconds * 1000);
    const openRss = await medianRss(child.pid!);
    log(`bare: ${linked.opened}/${sessions} open in ${linked.seconds.toFixed(1)} s, RSS ${mb(emptyRss).toFixed(1)} -> ${mb(openRss).toFixed(1)} MB`);
    return {
      opened: linked.opened,
      failures: linked.failures,
      secondsToOpen: linked.seconds,
      cpuSeconds: cpu,
      emptyRssMb: mb(emptyRss),
      openRssMb: mb(openRss),
      rssMbPerSession: mb(openRss - emptyRss) / Math.max(1, linked.opened),
    };
  } finally {
    await stopChild(child, 'SIGKILL');
    await stopChild(emulator.child);
  }
}

/** In the bare child: the same Baileys socket set-up as bench:emulator, in-memory auth, one process. */
async function bareChild(): Promise<void> {
  const logger = pino({ level: 'silent' });
  const send = (message: BareMessage) => process.send!(message);
  const nextMessage = <T>() => new Promise<T>((resolve) => process.once('message', (m) => resolve(m as T)));

  const { controlUrl } = await nextMessage<{ controlUrl: string }>();
  const { waWebSocketUrl } = await connectToSandbox({ sandboxUrl: controlUrl, timeoutMs: 10_000 });
  const sockets: WASocket[] = [];



  send({ type: 'ready' });
  const { numbers, concurrency } = await nextMessage<{ numbers: string[]; concurrency: number }>();
  const started = Date.now();
  let next = 0;
  let failures = 0;
  const lane = async () => {
    while (next < numbers.length) {
      const phoneNumber = numbers[next++];
      await linkBareSocket({ wsUrl: waWebSocketUrl, controlUrl, phoneNumber, logger, sockets, timeoutMs: 300_000 }).catch((error: Error) => {
        failures++;
        process.stderr.write(`bare: ${error.message}\n`);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, numbers.length) }, lane));
  send({ type: 'linked', opened: numbers.length - failures, failures, seconds: (Date.now() - started) / 1000 });
  // Holds the sockets open until the parent has measured and kills this process.
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const sessions = num('sessions', 50);
  const concurrency = num('concurrency', 8);
  const idleSeconds = num('idle-seconds', 10, 0);
  const db = flag('db', 'pglite');
  if (db !== 'pglite' && db !== 'postgres') throw new Error('--db must be pglite or postgres');
  const restoreConcurrency = num('restore-concurrency', 25);
  const restoreJitterMs = num('restore-jitter-ms', 200, 0);
  const env = { SESSION_RESTORE_CONCURRENCY: String(restoreConcurrency), SESSION_RESTORE_JITTER_MS: String(restoreJitterMs) };

  log(`bench:sessions: ${sessions} sessions, link concurrency ${concurrency}, db ${db}, restore concurrency ${restoreConcurrency}, jitter ${restoreJitterMs} ms, ${os.availableParallelism()} cores`);
  let gateway: GatewayFigures | undefined;
  let bare: BareFigures | undefined;
  const errors: string[] = [];
  try {
    gateway = await runGateway(sessions, concurrency, db, env, idleSeconds);
  } catch (error) {
    errors.push(`gateway: ${(error as Error).message}`);
    process.stderr.write(`gateway part failed: ${(error as Error).stack}\n`);
  }
  await cleanUp();
  try {
    bare = await runBare(sessions, concurrency, idleSeconds);
  } catch (error) {
    errors.push(`bare: ${(error as Error).message}`);
    process.stderr.write(`bare part failed: ${(error as Error).stack}\n`);
  }
  await cleanUp();

  const fixed = (value: number | null | undefined, digits = 2) => (value === null || value === undefined ? null : Number(value.toFixed(digits)));
  const ratio = gateway && bare && bare.rssMbPerSession > 0 ? gateway.rssMbPerSession / bare.rssMbPerSession : null;
  const noQr = gateway ? gateway.qrSeenDuringRestore === 0 && (gateway.qrEventsAfterRestart ?? 0) === 0 : false;
  const targets = {
    allConnected: !!gateway && gateway.connected === sessions,
    rssMbPerSessionUnder10: !!gateway && gateway.rssMbPerSession < TARGETS.rssMbPerSession,
    restoreUnder60s: !!gateway && gateway.restoreSeconds !== null && gateway.restoreSeconds < TARGETS.restoreSeconds && gateway.restored === gateway.connected,
    noQrOnRestore: noQr,
  };

  const rows: Array<[string, string]> = [
    ['sessions requested', String(sessions)],
    ['db / link concurrency', `${db} / ${concurrency}`],
    ['restore concurrency / jitter', `${restoreConcurrency} / ${restoreJitterMs} ms`],
  ];
  if (gateway) {
    rows.push(
      ['gateway: connected (link failures)', `${gateway.connected} (${gateway.linkFailures})`],
      ['gateway: seconds to connect all', gateway.secondsToConnect.toFixed(1)],
      ['gateway: CPU seconds while linking', gateway.gatewayCpuSecondsToConnect.toFixed(1)],
      ['gateway: RSS empty / all connected (MB)', `${gateway.emptyRssMb.toFixed(1)} / ${gateway.connectedRssMb.toFixed(1)}`],
      ['gateway: RSS per session (MB)', gateway.rssMbPerSession.toFixed(2)],
      ['gateway: CPU % while idle, all connected', gateway.idleCpuPercent.toFixed(1)],
      ['gateway: SIGTERM to exit (s, exit)', `${gateway.shutdownSeconds.toFixed(1)} (${gateway.shutdownExit})`],
      ['restore: connected again', `${gateway.restored}/${gateway.connected}`],
      ['restore: seconds from spawn / from listening', `${gateway.restoreSeconds?.toFixed(1) ?? 'not reached'} / ${gateway.restoreSecondsFromListening?.toFixed(1) ?? '-'}`],
      ['restore: CPU seconds of the new process', gateway.gatewayCpuSecondsToRestore.toFixed(1)],
      ['restore: sessions seen with a QR', String(gateway.qrSeenDuringRestore)],
      ['restore: qr events after restart (postgres)', gateway.qrEventsAfterRestart === null ? 'n/a' : String(gateway.qrEventsAfterRestart)],
      ['restore: RSS after restore, idle (MB)', gateway.restoredRssMb.toFixed(1)],
      ['emulator: RSS (MB) / connections', `${gateway.emulatorRssMb.toFixed(1)} / ${gateway.emulatorConnections}`],
    );
  }
  if (bare) {
    rows.push(
      ['bare Baileys: open (failures)', `${bare.opened} (${bare.failures})`],
      ['bare Baileys: seconds to open all / CPU s', `${bare.secondsToOpen.toFixed(1)} / ${bare.cpuSeconds.toFixed(1)}`],
      ['bare Baileys: RSS empty / all open (MB)', `${bare.emptyRssMb.toFixed(1)} / ${bare.openRssMb.toFixed(1)}`],
      ['bare Baileys: RSS per socket (MB)', bare.rssMbPerSession.toFixed(2)],
    );
  }
  rows.push(['ratio gateway / bare RSS per session', ratio === null ? '-' : ratio.toFixed(2)]);
  for (const [name, met] of Object.entries(targets)) rows.push([`target ${name}`, met ? 'met' : 'MISSED']);
  for (const error of errors) rows.push(['error', error]);
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`\nbench:sessions (${new Date().toISOString()}, ${os.availableParallelism()} cores)\n`);
  for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);

  const result = {
    sessions,
    secondsToConnect: fixed(gateway?.secondsToConnect, 1),
    rssMbPerSession: fixed(gateway?.rssMbPerSession, 3),
    bareRssMbPerSession: fixed(bare?.rssMbPerSession, 3),
    restoreSeconds: fixed(gateway?.restoreSeconds, 1),
    ratio: fixed(ratio, 2),
    connected: gateway?.connected ?? 0,
    restored: gateway?.restored ?? 0,
    restoreSecondsFromListening: fixed(gateway?.restoreSecondsFromListening, 1),
    emptyRssMb: fixed(gateway?.emptyRssMb, 1),
    connectedRssMb: fixed(gateway?.connectedRssMb, 1),
    restoredRssMb: fixed(gateway?.restoredRssMb, 1),
    qrOnRestore: gateway ? gateway.qrSeenDuringRestore + (gateway.qrEventsAfterRestart ?? 0) : null,
    gatewayCpuSecondsToConnect: fixed(gateway?.gatewayCpuSecondsToConnect, 1),
    gatewayCpuSecondsToRestore: fixed(gateway?.gatewayCpuSecondsToRestore, 1),
    gatewayIdleCpuPercent: fixed(gateway?.idleCpuPercent, 1),
    bareSecondsToOpen: fixed(bare?.secondsToOpen, 1),
    db,
    concurrency,
    restoreConcurrency,
    restoreJitterMs,
    targets,
    errors,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

if (process.argv.includes('--bare-child')) {
  bareChild().catch((error: unknown) => {
    process.stderr.write(`bare child failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
} else {
  main()
    .then(() => cleanUp())
    .then(() => process.exit(0))
    .catch(async (error: unknown) => {
      process.stderr.write(`bench:sessions failed: ${(error as Error).stack ?? String(error)}\n`);
      await cleanUp();
      process.exit(1);
    });
}
