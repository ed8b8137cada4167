import type { Agent } from 'node:https';
import makeWASocket, {
  Browsers,
  DisconnectReason,
  generateWAMessageContent,
  isPnUser,
  jidDecode,
  makeCacheableSignalKeyStore,
  type AnyMessageContent,
  type BinaryNode,
  type WASocket,
} from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import { OutgoingMessage, SendError, SendErrorCode } from '../../../contracts/src';
import { AckWaiter } from './ack-waiter';
import { quotedStub, toBaileysContent } from './content-builder';
import type { MediaFetcher } from './media-fetcher';
import { toDeliveryStatus, toIncomingMessage } from './incoming-mapper';
import { SignalObjectCache } from './signal-object-cache';
import { EngineConnectOptions, EngineConnection, WhatsAppEngine } from './whatsapp-engine';

export interface BaileysEngineOptions {
  /** Baileys' own logs; capped at warn by the caller so no key material is ever logged. */
  logger: Logger;
  /** The emulator's socket in sandbox mode; unset: WhatsApp itself. */
  waWebSocketUrl?: string;
  /** The agent media uploads go through: in sandbox mode, one that trusts the emulator's media host certificate. */
  mediaUploadAgent?: Agent;
  /** Downloads media sends name by URL (SSRF guard, size limits); without it Baileys downloads them unchecked. */
  mediaFetcher?: MediaFetcher;
  keepAliveIntervalMs?: number;
  connectTimeoutMs?: number;
  /** Ask WhatsApp whether a phone number exists before the first send to it (answer cached per socket). */
  verifyRecipients?: boolean;
}

/** Status code Baileys reports on a close, from its Boom error. */
function closeCode(error: unknown): number {
  const output = (error as { output?: { statusCode?: number } } | undefined)?.output;
  return output?.statusCode ?? DisconnectReason.connectionClosed;
}

class BaileysConnection extends EngineConnection {
  private readonly acks = new AckWaiter();
  private readonly knownRecipients = new Map<string, boolean>();
  private closedByUs = false;
  private closeReported = false;
  private readonly sock: WASocket;

  constructor(
    private readonly options: EngineConnectOptions,
    private readonly engine: BaileysEngineOptions,
  ) {
    super();
    const logger = engine.logger.child({ sessionId: options.sessionId, ...options.logContext });
    this.sock = makeWASocket({
      auth: { creds: options.auth.state.creds, keys: makeCacheableSignalKeyStore(options.auth.state.keys, logger, new SignalObjectCache()) },
      logger,
      browser: Browsers.ubuntu('Chrome'),
      ...(engine.waWebSocketUrl && { waWebSocketUrl: engine.waWebSocketUrl }),
      ...(engine.mediaUploadAgent && { fetchAgent: engine.mediaUploadAgent }),
      markOnlineOnConnect: false,
      syncFullHistory: false,
      fireInitQueries: true,
      emitOwnEvents: false,
      generateHighQualityLinkPreview: false,
      keepAliveIntervalMs: engine.keepAliveIntervalMs ?? 30_000,
      connectTimeoutMs: engine.connectTimeoutMs ?? 20_000,
      getMessage: (key) => this.rebuildForRetry(key.id ?? undefined),
    });
    this.listen();
  }

  private report(event: Parameters<EngineConnectOptions['onEvent']>[0]): void {
    if (event.type === 'close') {
      if (this.closeReported) return;
      this.closeReported = true;
    }
    this.options.onEvent(event);
  }

  private listen(): void {
    const { sock } = this;
    sock.ev.on('creds.update', () => {
      // A fenced write fails once the lease is lost; the session runner stops the socket then.
      this.options.auth.saveCreds().catch((error: Error) => this.engine.logger.warn({ sessionId: this.options.sessionId, err: error.message }, 'credentials not saved'));
    });
    sock.ev.on('connection.update', (update) => {
      if (update.qr) this.report({ type: 'qr', qr: update.qr });
      if (update.connection === 'open') {
        const user = sock.user!;
        const phoneNumber = jidDecode(user.id)?.user ?? user.id;
        this.report({ type: 'open', me: { jid: user.id, phoneNumber, lid: user.lid, name: user.name }, isNewLogin: !!update.isNewLogin });
      }
      if (update.connection === 'close') {
        const code = closeCode(update.lastDisconnect?.error);
        this.acks.failAll(`closed with ${code}`);
        if (!this.closedByUs) this.report({ type: 'close', code, message: update.lastDisconnect?.error?.message ?? '' });
      }
    });
    sock.ev.on('messages.upsert', ({ messages, type }) => {
      const delivery = type === 'notify' ? 'notify' : 'append';
      for (const msg of messages) {
        // A fast receipt can be folded into the upsert of our own message.
        const folded = msg.key.fromMe ? toDeliveryStatus(msg.status) : undefined;
        if (folded && msg.key.id) this.report({ type: 'status', waMessageId: msg.key.id, status: folded, at: new Date() });
        const incoming = toIncomingMessage(msg, delivery, sock.user?.id ?? '');
        if (incoming) this.report({ type: 'incoming', message: incoming });
      }
    });
    sock.ev.on('messages.update', (updates) => {
      for (const { key, update } of updates) {
        const status = key.fromMe ? toDeliveryStatus(update.status) : undefined;
        // An error ack also surfaces here as status ERROR; the send that is waiting for that ack
        // already fails (and is retried) through the AckWaiter, so it is not reported twice.
        if (status === 'error' && key.id && this.acks.handles(key.id)) continue;
        if (status && key.id) this.report({ type: 'status', waMessageId: key.id, status, at: new Date() });
      }
    });
    sock.ws.on('CB:ack,class:message', (node: BinaryNode) => this.acks.settle(node.attrs.id, node.attrs.error));
  }

  private async rebuildForRetry(waMessageId: string | undefined) {
    if (!waMessageId) return undefined;
    const stored = await this.options.findOutgoing(waMessageId);
    if (!stored) return undefined;
    return generateWAMessageContent(await this.contentOf(stored), { upload: this.sock.waUploadToServer });
  }

  /** Media named by URL is downloaded through the guarded fetcher when there is one (see MediaFetcher). */
  private async contentOf(message: OutgoingMessage): Promise<AnyMessageContent> {
    const c = message.content;
    const fetcher = this.engine.mediaFetcher;
    if (fetcher && 'media' in c && c.media.url && !c.media.base64) return toBaileysContent(message, await fetcher.fetch(c.media.url, c.type));
    return toBaileysContent(message);
  }

  private async assertRecipientExists(jid: string): Promise<void> {
    if (!this.engine.verifyRecipients || !isPnUser(jid)) return;
    let exists = this.knownRecipients.get(jid);
    if (exists === undefined) {
      const [result] = (await this.sock.onWhatsApp(jid)) ?? [];
      exists = !!result?.exists;
      this.knownRecipients.set(jid, exists);
    }
    if (!exists) throw new SendError(SendErrorCode.NotOnWhatsApp, `${jid} is not on WhatsApp`);
  }

  async send(message: OutgoingMessage, waMessageId: string, timeoutMs: number, onWritten?: () => void): Promise<{ ackAt: Date }> {
    if (this.closedByUs || this.closeReported) throw new SendError(SendErrorCode.SessionNotConnected, 'socket is closed');
    await this.assertRecipientExists(message.to);
    // Downloaded before the ack clock starts: a slow media server is not a slow WhatsApp.
    const content = await this.contentOf(message);
    const acked = this.acks.expect(waMessageId, timeoutMs);
    try {
      await this.sock.sendMessage(message.to, content, { messageId: waMessageId, quoted: quotedStub(message) });
    } catch (error) {
      this.acks.cancel(waMessageId);
      void acked.catch(() => undefined);
      throw error instanceof SendError ? error : classifySendFailure(error);
    }
    onWritten?.();
    return { ackAt: await acked };
  }

  requestPairingCode(phoneNumber: string): Promise<string> {
    return this.sock.requestPairingCode(phoneNumber.replace(/[^\d]/g, ''));
  }

  async logout(): Promise<void> {
    this.closedByUs = true;
    try {
      await this.sock.logout();
    } finally {
      this.acks.failAll('logged out');
    }
  }

  close(): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    this.acks.failAll('closed');
    void this.sock.end(undefined);
  }
}

/** Errors thrown by Baileys while building or writing a message. */
function classifySendFailure(error: unknown): SendError {
  const message = (error as Error)?.message ?? String(error);
  const status = (error as { output?: { statusCode?: number } })?.output?.statusCode;
  if (status === DisconnectReason.connectionClosed || /connection closed|not open|socket/i.test(message)) return new SendError(SendErrorCode.SessionNotConnected, message);
  if (/jid|invalid/i.test(message)) return new SendError(SendErrorCode.InvalidRecipient, message);
  if (/media|upload|fetch|ENOTFOUND|ECONNREFUSED/i.test(message)) return new SendError(SendErrorCode.MediaUnavailable, message);
  return new SendError(SendErrorCode.SessionNotConnected, message);
}

/** The Baileys adapter of the WhatsAppEngine port. */
export class BaileysEngine extends WhatsAppEngine {
  constructor(private readonly options: BaileysEngineOptions) {
    super();
  }

  connect(options: EngineConnectOptions): EngineConnection {
    return new BaileysConnection(options, this.options);
  }
}
