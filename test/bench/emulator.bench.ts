/**
 * bench:emulator — links and opens N real Baileys sockets against the
 * emulator, which runs in a child process so its own memory and CPU can be
 * read (`GET /v1/stats`). The sockets live in this one process, spread over
 * worker threads (`--threads`, default: up to 2) because Baileys spends most
 * of a first login generating 812 prekeys on one thread.
 * Usage: `npm run bench:emulator -- --sessions 200`.
 * Prints a table, then `RESULT {...}` as the last line; exits 0 when it ran.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { WASocket } from '@whiskeysockets/baileys';
import pino from 'pino';
import { connectToSandbox } from '../../libs/whatsapp/src/sandbox';
import { linkBareSocket, startEmulatorChild } from './support';

const logger = pino({ level: 'silent' });

interface Stats {
  phones: number;
  connections: number;
  rssBytes: number;
  heapUsedBytes: number;
  cpuUserMicros: number;
  cpuSystemMicros: number;
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}


async function http<T>(url: string, method = 'GET', body?: unknown): Promise<T> {
  const response = await fetch(url, { method, headers: body ? { 'content-type': 'application/json' } : undefined, body: body ? JSON.stringify(body) : undefined });
  const json = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${json.error ?? ''}`);
  return json;
}



interface WorkerInput {
  controlUrl: string;
  numbers: string[];
  concurrency: number;
}

interface WorkerReport {
  opened: number;
  failures: number;
}

/** A worker thread: links its share of the phones and keeps the sockets open until told to stop. */
async function runWorker(input: WorkerInput): Promise<void> {
  // Each thread has its own Baileys module instance, so each installs the trust root.
  const { waWebSocketUrl } = await connectToSandbox({ sandboxUrl: input.controlUrl, timeoutMs: 10_000 });
  const sockets: WASocket[] = [];
  let next = 0;
  let failures = 0;
  const lane = async () => {
    while (next < input.numbers.length) {
      const phoneNumber = input.numbers[next++];
      await linkBareSocket({ wsUrl: waWebSocketUrl, controlUrl: input.controlUrl, phoneNumber, logger, sockets }).catch((error: Error) => {
        failures++;
        process.stderr.write(`${error.message}\n`);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.concurrency, input.numbers.length) }, lane));
  const report: WorkerReport = { opened: input.numbers.length - failures, failures };
  parentPort!.postMessage(report);
  parentPort!.once('message', () => {
    for (const sock of sockets) {
      try {
        sock.end(undefined);
      } catch {
        // already closed
      }
    }
    // Baileys leaves timers behind (pre-key upload race); the thread ends here on purpose.
    process.exit(0);
  });
}

async function main(): Promise<void> {
  const sessions = flag('sessions', 200);
  const concurrency = flag('concurrency', 16);
  const idleSeconds = flag('idle-seconds', 5);
  const threads = Math.min(flag('threads', Math.min(2, availableParallelism())), sessions);
  const { child, url } = await startEmulatorChild();
  const workers: Worker[] = [];
  try {
    await connectToSandbox({ sandboxUrl: url, timeoutMs: 10_000 });
    const mb = (bytes: number) => bytes / 1024 / 1024;
    const baseline = await http<Stats>(`${url}/v1/stats`);

    const numbers = Array.from({ length: sessions }, (_, i) => `5511${String(800000000 + i)}`);
    for (const phoneNumber of numbers) await http(`${url}/v1/phones`, 'POST', { phoneNumber });
    const afterAccounts = await http<Stats>(`${url}/v1/stats`);

    const started = Date.now();
    const cpuOpenStart = process.cpuUsage();
    const reports = await Promise.all(
      Array.from({ length: threads }, (_, t) => {
        const share = numbers.filter((_n, i) => i % threads === t);
        const worker = new Worker(__filename, { workerData: { controlUrl: url, numbers: share, concurrency: Math.ceil(concurrency / threads) } satisfies WorkerInput });
        workers.push(worker);
        return new Promise<WorkerReport>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
      }),
    );
    const secondsToOpen = (Date.now() - started) / 1000;
    const opened = reports.reduce((sum, r) => sum + r.opened, 0);
    const failures = reports.reduce((sum, r) => sum + r.failures, 0);
    const afterOpen = await http<Stats>(`${url}/v1/stats`);
    const cpuOpen = process.cpuUsage(cpuOpenStart);
    const emulatorCpuSecondsToOpen = (afterOpen.cpuUserMicros + afterOpen.cpuSystemMicros - afterAccounts.cpuUserMicros - afterAccounts.cpuSystemMicros) / 1e6;
    const clientsCpuSecondsToOpen = (cpuOpen.user + cpuOpen.system) / 1e6;

    const idleStart = await http<Stats>(`${url}/v1/stats`);
    const benchCpuStart = process.cpuUsage();
    const idleT0 = Date.now();
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    const idleEnd = await http<Stats>(`${url}/v1/stats`);
    const idleMs = Date.now() - idleT0;
    const benchCpu = process.cpuUsage(benchCpuStart);
    const emulatorIdleCpuPercent = ((idleEnd.cpuUserMicros + idleEnd.cpuSystemMicros - idleStart.cpuUserMicros - idleStart.cpuSystemMicros) / 1000 / idleMs) * 100;
    const clientsIdleCpuPercent = ((benchCpu.user + benchCpu.system) / 1000 / idleMs) * 100;

    const rssPerAccountLinked = mb(afterOpen.rssBytes - baseline.rssBytes) / sessions;
    const rssPerAccountOnly = mb(afterAccounts.rssBytes - baseline.rssBytes) / sessions;
    const rows: Array<[string, string]> = [
      ['sessions requested', String(sessions)],
      ['sockets open', String(opened)],
      ['client threads x link concurrency', `${threads} x ${Math.ceil(concurrency / threads)}`],
      ['seconds to open all', secondsToOpen.toFixed(2)],
      ['emulator CPU seconds while opening', emulatorCpuSecondsToOpen.toFixed(2)],
      ['clients (Baileys) CPU seconds while opening', clientsCpuSecondsToOpen.toFixed(2)],
      ['emulator RSS baseline (MB)', mb(baseline.rssBytes).toFixed(1)],
      ['emulator RSS after accounts (MB)', mb(afterAccounts.rssBytes).toFixed(1)],
      ['emulator RSS with all linked+open (MB)', mb(afterOpen.rssBytes).toFixed(1)],
      ['emulator RSS per account, accounts only (MB)', rssPerAccountOnly.toFixed(3)],
      ['emulator RSS per account, linked + connected (MB)', rssPerAccountLinked.toFixed(3)],
      [`emulator idle CPU over ${idleSeconds}s (%)`, emulatorIdleCpuPercent.toFixed(2)],
      [`clients idle CPU over ${idleSeconds}s (%)`, clientsIdleCpuPercent.toFixed(2)],
      ['bench process RSS (MB)', mb(process.memoryUsage().rss).toFixed(1)],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(`\nbench:emulator (${new Date().toISOString()})\n`);
    for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
    const result = {
      sockets: opened,
      secondsToOpen: Number(secondsToOpen.toFixed(2)),
      emulatorRssMbPerAccount: Number(rssPerAccountLinked.toFixed(3)),
      emulatorRssMbPerAccountUnlinked: Number(rssPerAccountOnly.toFixed(3)),
      emulatorIdleCpuPercent: Number(emulatorIdleCpuPercent.toFixed(2)),
      clientsIdleCpuPercent: Number(clientsIdleCpuPercent.toFixed(2)),
      emulatorCpuSecondsToOpen: Number(emulatorCpuSecondsToOpen.toFixed(2)),
      clientsCpuSecondsToOpen: Number(clientsCpuSecondsToOpen.toFixed(2)),
      threads,
      failures,
      targets: { secondsToOpenUnder60: secondsToOpen < 60 && failures === 0, rssPerAccountUnder2Mb: rssPerAccountLinked < 2 },
    };
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  } finally {
    await Promise.all(
      workers.map((worker) => {
        if (worker.threadId === -1) return undefined; // already exited
        const exited = new Promise((resolve) => worker.once('exit', resolve));
        worker.postMessage('stop');
        return exited;
      }),
    );
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
  }
}

if (isMainThread) {
  main()
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      process.stderr.write(`bench:emulator failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    });
} else {
  runWorker(workerData as WorkerInput).catch((error: unknown) => {
    process.stderr.write(`bench:emulator worker failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
