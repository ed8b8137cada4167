import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, ChildProcess } from 'node:child_process';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '../../libs/config/src';
import { createApp } from '../../apps/gateway/src/bootstrap';
import { uniquePrefix, waitFor } from './services';

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';
export const TEST_CREDENTIALS_KEY = Buffer.alloc(32, 7).toString('base64');

export const tempDir = (prefix = 'wagw-') => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

export interface InProcessGateway {
  app: NestFastifyApplication;
  url: string;
  dataDir: string;
  close: () => Promise<void>;
}

/** The gateway built in this process (fast, inspectable), listening on a free port. */
export async function startGateway(env: Record<string, string | undefined> = {}): Promise<InProcessGateway> {
  const dataDir = env.DATA_DIR ?? tempDir();
  // A queue prefix of its own, so BullMQ jobs left by another test file are never consumed here.
  const config = loadConfig({ ADMIN_API_KEY: TEST_ADMIN_KEY, CREDENTIALS_KEY: TEST_CREDENTIALS_KEY, LOG_LEVEL: 'silent', PORT: '0', HOST: '127.0.0.1', QUEUE_PREFIX: uniquePrefix('t'), ...env, DATA_DIR: dataDir });
  const app = await createApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, dataDir, close: () => app.close() };
}

export interface ChildGateway {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop: (signal?: NodeJS.Signals) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const ROOT = path.resolve(__dirname, '../..');

/** The gateway as a real process (for roles, signals, locks and crashes), run from source. */
export function spawnGateway(env: Record<string, string | undefined>, entry = 'apps/gateway/src/main.ts'): ChildGateway {
  const port = env.PORT ?? '0';
  const child = spawn(process.execPath, ['-r', '@swc-node/register', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env, PORT: port },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const gateway: ChildGateway = {
    child,
    get url() {
      const match = /listening on port (\d+)/.exec(output);
      return match ? `http://127.0.0.1:${match[1]}` : '';
    },
    output: () => output,
    exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  return gateway;
}

/** Waits until the child logs that it listens, or fails with its output if it exits first. */
export async function untilListening(gateway: ChildGateway, timeoutMs = 30000): Promise<string> {
  let exited = false;
  void gateway.exited.then(() => (exited = true));
  await waitFor(() => gateway.url || exited, { timeoutMs, what: 'the gateway to listen' });
  if (!gateway.url) throw new Error(`gateway exited before listening:\n${gateway.output()}`);
  return gateway.url;
}

export const authHeaders = (key = TEST_ADMIN_KEY) => ({ authorization: `Bearer ${key}` });
