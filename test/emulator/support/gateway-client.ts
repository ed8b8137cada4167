import makeWASocket, {
  initAuthCreds,
  makeCacheableSignalKeyStore,
  WA_CERT_DETAILS,
  type AuthenticationCreds,
  type BaileysEventMap,
  type SignalDataTypeMap,
  type SignalKeyStore,
  type WASocket,
} from '@whiskeysockets/baileys';
import pino from 'pino';

export const silentLogger = pino({ level: 'silent' });

/**
 * Baileys rc14 races its first pre-key upload against a 30 s timer that it
 * never clears, so every fresh login would keep the test process alive for
 * half a minute after the sockets are closed. Long timers created while the
 * tests run are unref'd: they still fire if the process is alive, but they no
 * longer hold it open.
 */
function unrefLongTimers(): void {
  const marker = Symbol.for('wa-emulator-tests.unref-long-timers');
  const g = globalThis as unknown as Record<symbol, boolean>;
  if (g[marker]) return;
  g[marker] = true;
  const original = globalThis.setTimeout;
  const patched = ((handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = original(handler, ms, ...args);
    if ((ms ?? 0) >= 20_000) timer.unref?.();
    return timer;
  }) as typeof setTimeout;
  globalThis.setTimeout = Object.assign(patched, original);
}
unrefLongTimers();

type Category = keyof SignalDataTypeMap;

/** Credentials and Signal keys kept in memory, reusable across sockets (a "restart" of the gateway). */
export class MemoryAuth {
  creds: AuthenticationCreds = initAuthCreds();
  private readonly data = new Map<string, unknown>();
  readonly keys: SignalKeyStore = {
    get: async <T extends Category>(type: T, ids: string[]) => {
      const out: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const id of ids) {
        const v = this.data.get(`${type}:${id}`);
        if (v !== undefined) out[id] = v as SignalDataTypeMap[T];
      }
      return out;
    },
    set: async (values) => {
      for (const [type, entries] of Object.entries(values)) {
        for (const [id, v] of Object.entries(entries ?? {})) {
          if (v === null || v === undefined) this.data.delete(`${type}:${id}`);
          else this.data.set(`${type}:${id}`, v);
        }
      }
    },
  };
}

export interface ClientEvents {
  qrs: string[];
  opened: number;
  closes: Array<{ statusCode: number | undefined; message: string }>;
  credsUpdates: number;
  upserts: Array<BaileysEventMap['messages.upsert']>;
  updates: BaileysEventMap['messages.update'];
  serverAcks: Array<{ id: string; error?: string }>;
  isNewLogin: boolean;
}

/**
 * One unmodified Baileys socket pointed at the emulator, with every event the
 * tests assert on recorded. `reconnectOn515` mimics what a gateway does after
 * pairing: reconnect at once with the same credentials.
 */
export class GatewayClient {
  sock!: WASocket;
  readonly events: ClientEvents = { qrs: [], opened: 0, closes: [], credsUpdates: 0, upserts: [], updates: [], serverAcks: [], isNewLogin: false };
  private stopped = false;

  constructor(
    readonly wsUrl: string,
    readonly auth = new MemoryAuth(),
    private readonly options: { reconnectOn515?: boolean; keepAliveIntervalMs?: number; qrTimeout?: number } = {},
  ) {}

  start(): this {
    const sock = makeWASocket({
      waWebSocketUrl: this.wsUrl,
      auth: { creds: this.auth.creds, keys: makeCacheableSignalKeyStore(this.auth.keys, silentLogger) },
      logger: silentLogger,
      markOnlineOnConnect: false,
      keepAliveIntervalMs: this.options.keepAliveIntervalMs ?? 30_000,
      qrTimeout: this.options.qrTimeout,
      connectTimeoutMs: 10_000,
      getMessage: async () => undefined,
    });
    this.sock = sock;
    sock.ev.on('creds.update', (update) => {
      Object.assign(this.auth.creds, update);
      this.events.credsUpdates++;
    });
    sock.ev.on('messages.upsert', (u) => this.events.upserts.push(u));
    sock.ev.on('messages.update', (u) => this.events.updates.push(...u));
    sock.ws.on('CB:ack,class:message', (node: { attrs: Record<string, string> }) => this.events.serverAcks.push({ id: node.attrs.id, error: node.attrs.error }));
    sock.ev.on('connection.update', (u) => {
      if (u.qr) this.events.qrs.push(u.qr);
      if (u.isNewLogin) this.events.isNewLogin = true;
      if (u.connection === 'open') this.events.opened++;
      if (u.connection === 'close') {
        const error = u.lastDisconnect?.error as { output?: { statusCode?: number }; message?: string } | undefined;
        const statusCode = error?.output?.statusCode;
        this.events.closes.push({ statusCode, message: error?.message ?? '' });
        if (statusCode === 515 && this.options.reconnectOn515 !== false && !this.stopped) this.start();
      }
    });
    return this;
  }

  get lastClose() {
    return this.events.closes[this.events.closes.length - 1];
  }

  /** Statuses seen for one of our sent messages, from messages.update and folded into messages.upsert. */
  statusesFor(id: string): number[] {
    const statuses: number[] = [];
    for (const u of this.events.updates) if (u.key.id === id && typeof u.update.status === 'number') statuses.push(u.update.status);
    for (const u of this.events.upserts) for (const m of u.messages) if (m.key.id === id && typeof m.status === 'number') statuses.push(m.status);
    return statuses;
  }

  received(type?: 'notify' | 'append') {
    return this.events.upserts.filter((u) => !type || u.type === type).flatMap((u) => u.messages.map((m) => ({ ...m, upsertType: u.type })));
  }

  stop(): void {
    this.stopped = true;
    try {
      this.sock?.end(undefined);
    } catch {
      // already closed
    }
  }
}

/** Points Baileys' trust root at the emulator (sandbox only; see libs/whatsapp/src/sandbox). */
export function trustRoot(root: Uint8Array): Buffer {
  const previous = Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY);
  WA_CERT_DETAILS.PUBLIC_KEY.set(root);
  return previous;
}

/**
 * libsignal prints session bookkeeping ("Closing session", ...) with console.*;
 * tests keep their output readable by muting those lines only.
 */
export function muteLibsignalConsole(): void {
  const noisy = /^(Closing session|Closing open session|Opening session|Removing old closed session|Session already|Decrypted message with closed session|Migrating session)/;
  for (const level of ['info', 'warn', 'log', 'error'] as const) {
    const original = console[level].bind(console);
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      if (typeof args[0] === 'string' && noisy.test(args[0])) return;
      original(...args);
    });
  }
}
