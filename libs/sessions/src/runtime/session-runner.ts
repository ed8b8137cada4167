import type { Logger } from 'pino';
import { MessageEventSink, OutgoingMessage, SendError, SendErrorCode, type SendOptions } from '../../../contracts/src';
import type { Metrics } from '../../../observability/src/metrics';
import type { AuthStateStore } from '../../../whatsapp/src/auth-state';
import type { EngineConnection, EngineEvent, WhatsAppEngine } from '../../../whatsapp/src/engine/whatsapp-engine';
import { LeaseKeeper } from '../ownership/lease-keeper';
import { Lease, LeaseLostError, SessionLeases } from '../ownership/session-leases';
import { decideAfterClose, RestartWindow } from './reconnect-policy';
import { RuntimeSettings } from './runtime-settings';
import { SessionChange, SessionStateWriter } from './session-state-writer';

export interface RunnerDeps {
  engine: WhatsAppEngine;
  authStore: AuthStateStore;
  leases: SessionLeases;
  writer: SessionStateWriter;
  sink: MessageEventSink;
  settings: RuntimeSettings;
  metrics: Metrics;
  logger: Logger;
  /** Tells the supervisor this runner is gone (it forgets it). */
  onStopped: (runner: SessionRunner) => void;
  /** Tells the supervisor the session is connected (sends may flow). */
  onConnected: (runner: SessionRunner) => void;
}

type RunnerState = 'starting' | 'connecting' | 'qr' | 'connected' | 'reconnecting' | 'stopped';

/** WhatsApp shows the first QR for 60 s and each refresh for 20 s. */
const FIRST_QR_MS = 60_000;
const NEXT_QR_MS = 20_000;

/**
 * One session's socket, owned under a lease. It reconnects by the reconnect
 * policy, writes every status change fenced by its lease, and stops at once
 * (socket closed, no more writes) when the lease is lost.
 */
export class SessionRunner {
  private state: RunnerState = 'starting';
  private connection?: EngineConnection;
  private auth?: Awaited<ReturnType<AuthStateStore['open']>>;
  private keeper?: LeaseKeeper;
  private reconnectTimer?: NodeJS.Timeout;
  private readonly restarts: RestartWindow;
  private openedAt = 0;
  /** A logout asked for through the API is under way: engine events no longer matter. */
  private endingByRequest = false;
  private qrCount = 0;
  private connectedWaiters: Array<(connected: boolean) => void> = [];
  private readonly log: Logger;
  /** Serialises event handling: Baileys emits faster than the database writes. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly sessionId: string,
    private lease: Lease,
    private readonly deps: RunnerDeps,
  ) {
    this.restarts = new RestartWindow(deps.settings.reconnect.windowMs);
    this.log = deps.logger.child({ sessionId, epoch: lease.epoch });
  }

  get status(): RunnerState {
    return this.state;
  }

  get isConnected(): boolean {
    return this.state === 'connected';
  }

  get currentLease(): Lease {
    return this.keeper?.current ?? this.lease;
  }

  async start(): Promise<void> {
    this.keeper = new LeaseKeeper(this.deps.leases, this.lease, { onLost: (reason) => this.onLeaseLost(reason) });
    this.keeper.start();
    try {
      this.auth = await this.deps.authStore.open(this.sessionId, this.currentLease);
      this.connect('connecting');
    } catch (error) {
      this.log.error({ err: (error as Error).message }, 'session could not start');
      await this.stop({ release: true });
    }
  }

  private get registered(): boolean {
    return !!this.auth?.state.creds.me;
  }

  private connect(status: 'connecting' | 'reconnecting'): void {
    if (this.state === 'stopped') return;
    this.state = status;
    this.qrCount = 0;
    this.enqueue(() => this.write({ status, statusReason: null }, 'status'));
    this.connection = this.deps.engine.connect({
      sessionId: this.sessionId,
      auth: { state: this.auth!.state, saveCreds: this.auth!.saveCreds },
      onEvent: (event) => this.enqueue(() => this.handle(event)),
      findOutgoing: (waMessageId) => this.deps.sink.findOutgoing(this.sessionId, waMessageId),
      logContext: { epoch: this.lease.epoch },
    });
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((error: Error) => {
      if (error instanceof LeaseLostError) return this.onLeaseLost(error.message);
      this.log.warn({ err: error.message }, 'session event handling failed');
    });
  }

  private write(change: SessionChange, type: string, detail?: Record<string, unknown>): Promise<void> {
    if (this.state === 'stopped' && change.status !== 'stopped' && change.status !== 'logged_out' && change.status !== 'failed') return Promise.resolve();
    return this.deps.writer.apply(this.currentLease, change, { type, detail });
  }

  private async handle(event: EngineEvent): Promise<void> {
    if (this.state === 'stopped' || this.endingByRequest) return;
    switch (event.type) {
      case 'qr': {
        this.state = 'qr';
        const expiresAt = new Date(Date.now() + (this.qrCount++ === 0 ? FIRST_QR_MS : NEXT_QR_MS));
        return this.write({ status: 'qr', qr: event.qr, qrExpiresAt: expiresAt, statusReason: null }, 'qr');
      }
      case 'open':
        this.state = 'connected';
        this.openedAt = Date.now();
        this.setSocketMetric('connected');
        await this.write({ status: 'connected', statusReason: null, phoneNumber: event.me.phoneNumber, qr: null, qrExpiresAt: null, touchLastSeen: true }, 'status', { isNewLogin: event.isNewLogin });
        this.settleWaiters(true);
        this.deps.onConnected(this);
        return;
      case 'incoming':
        return this.deps.sink.incoming(this.sessionId, event.message);
      case 'status':
        return this.deps.sink.statusUpdate(this.sessionId, event.waMessageId, event.status, event.at);
      case 'close':
        return this.afterClose(event.code, event.message);
    }
  }

  private async afterClose(code: number, message: string): Promise<void> {
    this.connection = undefined;
    this.setSocketMetric('disconnected');
    if (this.openedAt && Date.now() - this.openedAt >= this.deps.settings.stableAfterMs) this.restarts.reset();
    this.openedAt = 0;
    const decision = decideAfterClose(code, { registered: this.registered, recentRestarts: this.restarts.count() }, this.deps.settings.reconnect);
    this.log.info({ code, message, decision }, 'socket closed');
    switch (decision.action) {
      case 'reconnect': {
        // 515 is part of a normal login (right after pairing): it does not count towards giving up.
        if (code !== 515) this.restarts.record();
        this.deps.metrics.reconnects.inc({ reason: String(code) });
        const status = decision.delayMs === 0 ? 'connecting' : 'reconnecting';
        this.state = status;
        await this.write({ status, statusReason: decision.reason }, 'reconnect', { code, delayMs: decision.delayMs });
        this.reconnectTimer = setTimeout(() => this.connect(status), decision.delayMs);
        return;
      }
      case 'logged-out':
        return this.endAsLoggedOut(decision.reason);
      case 'stop':
        // Only the current owner may record the stop; a replaced former owner just leaves.
        if (!(await this.deps.leases.isCurrent(this.currentLease))) return this.stop({ release: false });
        await this.write({ status: 'stopped', statusReason: decision.reason, desiredState: 'stopped', qr: null }, 'status', { code });
        return this.stop({ release: true });
      case 'fail':
        await this.write({ status: 'failed', statusReason: decision.reason, desiredState: 'stopped', qr: null }, 'status', { code });
        return this.stop({ release: true });
    }
  }

  private async endAsLoggedOut(reason: string): Promise<void> {
    await this.deps.authStore.wipe(this.sessionId);
    await this.write({ status: 'logged_out', statusReason: reason, desiredState: 'stopped', qr: null, qrExpiresAt: null }, 'status');
    await this.stop({ release: true });
  }

  private setSocketMetric(status: string): void {
    for (const s of ['connected', 'disconnected']) this.deps.metrics.socketStatus.set({ session: this.sessionId, status: s }, s === status ? 1 : 0);
  }

  private settleWaiters(connected: boolean): void {
    const waiters = this.connectedWaiters;
    this.connectedWaiters = [];
    for (const resolve of waiters) resolve(connected);
  }

  /** Lease lost (stolen, expired, or renewals stalled): stop using the session now, write nothing. */
  private onLeaseLost(reason: string): void {
    if (this.state === 'stopped') return;
    this.log.warn({ reason }, 'lease lost: closing the socket');
    void this.stop({ release: false });
  }

  async stop({ release }: { release: boolean }): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearTimeout(this.reconnectTimer);
    this.connection?.close();
    this.connection = undefined;
    this.keeper?.stop();
    this.settleWaiters(false);
    this.deps.metrics.socketStatus.remove({ session: this.sessionId, status: 'connected' });
    this.deps.metrics.socketStatus.remove({ session: this.sessionId, status: 'disconnected' });
    if (release) await this.deps.leases.release(this.currentLease).catch((error: Error) => this.log.warn({ err: error.message }, 'lease not released'));
    this.deps.onStopped(this);
  }

  // Commands from the API and sends from the pipeline.

  async send(message: OutgoingMessage, waMessageId: string, options: SendOptions = {}): Promise<{ ackAt: Date }> {
    if (this.state !== 'connected' || !this.connection) throw new SendError(SendErrorCode.SessionNotConnected, `session ${this.sessionId} is ${this.state}`);
    if (performance.now() >= this.currentLease.localDeadline) throw new SendError(SendErrorCode.SessionNotConnected, 'lease deadline passed');
    return this.connection.send(message, waMessageId, this.deps.settings.sendAckTimeoutMs, options.onWritten);
  }

  waitUntilConnected(timeoutMs: number): Promise<boolean> {
    if (this.state === 'connected') return Promise.resolve(true);
    if (this.state === 'stopped') return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.connectedWaiters = this.connectedWaiters.filter((w) => w !== settle);
        resolve(false);
      }, timeoutMs);
      const settle = (connected: boolean) => {
        clearTimeout(timer);
        resolve(connected);
      };
      this.connectedWaiters.push(settle);
    });
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    if (this.state !== 'qr' || !this.connection) throw new Error(`session is ${this.state}, not waiting for a login`);
    return this.connection.requestPairingCode(phoneNumber);
  }

  /** Unlinks the device at WhatsApp (when connected), wipes the credentials, and ends as logged out. */
  async logout(reason = 'logged out through the API'): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.endingByRequest = true;
    clearTimeout(this.reconnectTimer);
    if (connection) await connection.logout().catch((error: Error) => this.log.warn({ err: error.message }, 'logout at WhatsApp failed; credentials are wiped anyway'));
    await this.enqueueAndWait(() => this.endAsLoggedOut(reason));
  }

  /** Closes the socket and connects again at once (a restart asked for through the API). */
  async restart(): Promise<void> {
    clearTimeout(this.reconnectTimer);
    this.connection?.close();
    this.connection = undefined;
    this.restarts.reset();
    this.connect('connecting');
  }

  private enqueueAndWait(task: () => Promise<void>): Promise<void> {
    return new Promise((resolve) => this.enqueue(() => task().finally(resolve)));
  }
}
