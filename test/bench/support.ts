import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import makeWASocket, { initAuthCreds, makeCacheableSignalKeyStore, type WASocket } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import { memoryKeyStore } from '../support/memory-key-store';

const EMULATOR_MAIN = path.join(__dirname, '..', '..', 'apps', 'emulator', 'src', 'main.js');

/** The emulator CLI (built) in a child process of its own, so its CPU and memory are measured apart. */
export async function startEmulatorChild(nodeArgs: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...nodeArgs, EMULATOR_MAIN, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`emulator did not start: ${out}`)), 15_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /control URL:\s+(http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}: ${out}`)));
  });
  // libsignal logs session bookkeeping on stdout; keep draining both streams.
  child.stdout!.resume();
  child.stderr!.resume();
  return { child, url };
}

/**
 * One bare Baileys socket (in-memory auth, no gateway): the emulator's phone
 * scans its QR through the control API; resolves on `open`, after the 515 restart.
 */
export function linkBareSocket(options: { wsUrl: string; controlUrl: string; phoneNumber: string; logger: Logger; sockets: WASocket[]; timeoutMs?: number }): Promise<void> {
  const { wsUrl, controlUrl, phoneNumber, logger, sockets, timeoutMs = 60_000 } = options;
  const creds = initAuthCreds();
  const keys = makeCacheableSignalKeyStore(memoryKeyStore(), logger);
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${phoneNumber}: not open after ${timeoutMs / 1000} s`)), timeoutMs);
    const connect = () => {
      const sock = makeWASocket({ waWebSocketUrl: wsUrl, auth: { creds, keys }, logger, markOnlineOnConnect: false, getMessage: async () => undefined });
      sockets.push(sock);
      sock.ev.on('creds.update', (update) => Object.assign(creds, update));
      sock.ev.on('connection.update', (update) => {
        if (update.qr) {
          fetch(`${controlUrl}/v1/phones/${phoneNumber}/link`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ qr: update.qr }) })
            .then((r) => (r.ok ? undefined : Promise.reject(new Error(`link ${phoneNumber}: ${r.status}`))))
            .catch(reject);
        }
        if (update.connection === 'open') {
          clearTimeout(timer);
          resolve();
        }
        if (update.connection === 'close') {
          const code = (update.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode;
          if (code === 515) connect();
          else {
            clearTimeout(timer);
            reject(new Error(`${phoneNumber}: closed with ${code}`));
          }
        }
      });
    };
    connect();
  });
}
