import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type pino from 'pino';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/src';
import { MessageEventSink, OutgoingMessage, SendError, SendErrorCode, SessionGateway, SessionOwnershipListener, type SendOptions } from '../../../contracts/src';
import { Metrics } from '../../../observability/src/metrics';
import { Readiness } from '../../../observability/src/readiness';
import { rootLoggerFor } from '../../../observability/src/root-logger';
import { AuthStateStore } from '../../../whatsapp/src/auth-state';
import { WhatsAppEngine } from '../../../whatsapp/src/engine/whatsapp-engine';
import { Lease, SessionLeases } from '../ownership/session-leases';
import { RUNTIME_SETTINGS } from './runtime-settings';
import type { RuntimeSettings } from './runtime-settings';
import { SessionRunner } from './session-runner';
import { SessionStateWriter } from './session-state-writer';
import { PeriodicTask } from './periodic-task';
import { CommandRow, SessionCommandType } from '../commands/session-command';

/** Stands in while no send pipeline is bound (it is, in every real composition). */
class DiscardingSink extends MessageEventSink {
  constructor(private readonly logger: Logger) {
    super();
  }
  async incoming(sessionId: string): Promise<void> {
    this.logger.warn(`incoming message of ${sessionId} dropped: no MessageEventSink`);
  }
  async statusUpdate(): Promise<void> {}
  async findOutgoing(): Promise<undefined> {
    return undefined;
  }
}

/**
 * The worker's owner of sockets: restores sessions at boot in bounded waves,
 * reconciles desired and actual state, takes over sessions whose lease
 * expired, runs the API's commands, and is the SessionGateway the send
 * pipeline calls.
 */
@Injectable()
export class SessionSupervisor extends SessionGateway implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly ownerId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly logger = new Logger('SessionSupervisor');
  private readonly runnerLogger: pino.Logger;
  private readonly runners = new Map<string, SessionRunner>();
  private readonly starting = new Set<string>();
  private readonly listeners: SessionOwnershipListener[] = [];
  private readonly reconcileTask: PeriodicTask;
  private readonly commandTask: PeriodicTask;
  private stopping = false;

  constructor(
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly leases: SessionLeases,
    private readonly engine: WhatsAppEngine,
    private readonly authStore: AuthStateStore,
    private readonly writer: SessionStateWriter,
    private readonly metrics: Metrics,
    private readonly readiness: Readiness,
    @Inject(RUNTIME_SETTINGS) private readonly settings: RuntimeSettings,
    private readonly moduleRef: ModuleRef,
  ) {
    super();
    this.runnerLogger = rootLoggerFor(config).child({ component: 'session-runner' });
    this.reconcileTask = new PeriodicTask(() => this.reconcile(), settings.reconcileIntervalMs, (error) => this.logger.warn(`reconcile failed: ${error.message}`));
    this.commandTask = new PeriodicTask(() => this.runCommands(), settings.commandPollMs, (error) => this.logger.warn(`commands failed: ${error.message}`));
  }

  addOwnershipListener(listener: SessionOwnershipListener): void {
    this.listeners.push(listener);
  }

  get ownedSessionIds(): string[] {
    return [...this.runners.keys()];
  }

  runner(sessionId: string): SessionRunner | undefined {
    return this.runners.get(sessionId);
  }

  /**
   * The send pipeline implements the sink and needs this supervisor as its
   * SessionGateway: resolved here, after both modules exist, instead of a
   * module import cycle.
   */
  private sink: MessageEventSink = new DiscardingSink(this.logger);

  onApplicationBootstrap(): void {
    try {
      this.sink = this.moduleRef.get(MessageEventSink, { strict: false });
    } catch {
      this.logger.warn('no MessageEventSink is bound: incoming messages and receipts are not stored');
    }
    try {
      this.listeners.push(this.moduleRef.get(SessionOwnershipListener, { strict: false }));
    } catch {
      this.logger.warn('no SessionOwnershipListener is bound: no send consumer follows the sessions');
    }
    this.readiness.register('sessions', async () => ({ owned: this.runners.size, connected: [...this.runners.values()].filter((r) => r.isConnected).length }));
    // Restore runs in the background: the process is live and ready while sessions come back in waves.
    this.reconcileTask.start(0);
    this.commandTask.start();
  }

  /** Starts sessions that should run and nobody holds; stops owned ones that should not run any more. */
  async reconcile(): Promise<void> {
    const owned = this.ownedSessionIds;
    if (owned.length > 0) {
      const rows: Array<{ id: string }> = await this.dataSource.query(`SELECT id FROM sessions s WHERE id = ANY($1) AND (desired_state <> 'running' OR deleted_at IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM session_commands c WHERE c.session_id = s.id AND c.completed_at IS NULL)`, [owned]);
      for (const { id } of rows) await this.runners.get(id)?.stop({ release: true });
    }
    const claimable = (await this.leases.listClaimable(1000)).filter((id) => !this.runners.has(id) && !this.starting.has(id));
    await this.startInWaves(claimable);
  }

  /** Bounded concurrency with jitter, so a restart of hundreds of sessions does not hammer WhatsApp (or the database) at once. */
  private async startInWaves(sessionIds: string[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < sessionIds.length && !this.stopping) {
        const id = sessionIds[next++];
        await new Promise((r) => setTimeout(r, Math.random() * this.settings.restoreJitterMs));
        await this.tryStart(id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.restoreConcurrency, sessionIds.length) }, worker));
  }

  async tryStart(sessionId: string): Promise<boolean> {
    if (this.stopping || this.runners.has(sessionId) || this.starting.has(sessionId)) return false;
    this.starting.add(sessionId);
    try {
      const lease = await this.leases.acquire(sessionId, this.ownerId);
      if (!lease) return false;
      const runner = new SessionRunner(sessionId, lease, {
        engine: this.engine,
        authStore: this.authStore,
        leases: this.leases,
        writer: this.writer,
        sink: this.sink,
        settings: this.settings,
        metrics: this.metrics,
        logger: this.runnerLogger,
        onStopped: (r) => this.forget(r),
        onConnected: () => undefined,
      });
      this.runners.set(sessionId, runner);
      for (const listener of this.listeners) await listener.sessionAcquired(sessionId).catch((e: Error) => this.logger.warn(`ownership listener failed: ${e.message}`));
      await runner.start();
      return true;
    } catch (error) {
      this.logger.warn(`session ${sessionId} did not start: ${(error as Error).message}`);
      return false;
    } finally {
      this.starting.delete(sessionId);
    }
  }

  private forget(runner: SessionRunner): void {
    if (this.runners.get(runner.sessionId) !== runner) return;
    this.runners.delete(runner.sessionId);
    for (const listener of this.listeners) void listener.sessionReleased(runner.sessionId).catch((e: Error) => this.logger.warn(`ownership listener failed: ${e.message}`));
  }

  /** Called by the API in the same process so a command runs now rather than at the next poll. */
  wake(): void {
    if (this.stopping || !this.config.runsWorker) return;
    this.commandTask.wake();
  }

  /**
   * Runs the pending commands of the sessions owned here, and of sessions no
   * one owns (a logout of a stopped session needs no socket). SKIP LOCKED
   * keeps two workers from running the same orphan command.
   */
  private async runCommands(): Promise<void> {
    for (;;) {
      // Claimed in a short statement and run outside any transaction: running a
      // command writes through other transactions (PGlite has a single session).
      const [command]: CommandRow[] = await this.dataSource.query(
        `UPDATE session_commands SET claimed_by = $2, claimed_at = now()
          WHERE id = (
            SELECT c.id FROM session_commands c
             WHERE c.completed_at IS NULL
               AND (c.claimed_at IS NULL OR c.claimed_at < now() - interval '60 seconds')
               AND (c.session_id = ANY($1) OR NOT EXISTS (SELECT 1 FROM session_leases l WHERE l.session_id = c.session_id AND l.expires_at > now()))
             ORDER BY c.created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING id, session_id AS "sessionId", type, payload`,
        [this.ownedSessionIds, this.ownerId],
      ).then((rows: any) => (Array.isArray(rows[0]) ? rows[0] : rows) as CommandRow[]);
      if (!command) return;
      let result: Record<string, unknown> | null = null;
      let error: string | null = null;
      try {
        result = (await this.execute(command)) ?? null;
      } catch (e) {
        error = (e as Error).message;
      }
      await this.dataSource.query(`UPDATE session_commands SET completed_at = now(), result = $2, error = $3 WHERE id = $1`, [command.id, result, error]);
    }
  }

  private async execute(command: CommandRow): Promise<Record<string, unknown> | void> {
    const runner = this.runners.get(command.sessionId);
    switch (command.type as SessionCommandType) {
      case 'start':
        if (!runner) this.wakeReconcile();
        return;
      case 'restart':
        if (runner) return runner.restart();
        // Nobody runs it: the reconcile loop will (desired_state was set to running by the API).
        this.wakeReconcile();
        return;
      case 'logout':
      case 'delete':
        if (runner) return runner.logout(command.type === 'delete' ? 'connection deleted' : undefined);
        await this.authStore.wipe(command.sessionId);
        if (command.type === 'logout') {
          await this.dataSource.query(`UPDATE sessions SET status = 'logged_out', status_reason = 'logged out through the API', desired_state = 'stopped', qr = NULL, updated_at = now() WHERE id = $1`, [command.sessionId]);
          await this.dataSource.query(`INSERT INTO events (session_id, type, detail) VALUES ($1, 'status', $2)`, [command.sessionId, { status: 'logged_out' }]);
        }
        return;
      case 'pairing-code': {
        if (!runner) throw new Error('the session is not running here');
        const code = await runner.requestPairingCode(String(command.payload.phoneNumber));
        return { code };
      }
      default:
        throw new Error(`unknown command ${command.type}`);
    }
  }

  private wakeReconcile(): void {
    this.reconcileTask.wake();
  }

  // SessionGateway, for the send pipeline.

  async send(sessionId: string, message: OutgoingMessage, waMessageId: string, options?: SendOptions): Promise<{ ackAt: Date }> {
    const runner = this.runners.get(sessionId);
    if (!runner) {
      const [row] = await this.dataSource.query(`SELECT status FROM sessions WHERE id = $1`, [sessionId]);
      if (row?.status === 'logged_out') throw new SendError(SendErrorCode.SessionLoggedOut, `session ${sessionId} is logged out`);
      throw new SendError(SendErrorCode.SessionNotConnected, `session ${sessionId} is not running in this worker`);
    }
    return runner.send(message, waMessageId, options);
  }

  async waitUntilConnected(sessionId: string, timeoutMs: number): Promise<boolean> {
    const runner = this.runners.get(sessionId);
    return runner ? runner.waitUntilConnected(timeoutMs) : false;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([this.reconcileTask.stop(), this.commandTask.stop()]);
    const runners = [...this.runners.values()];
    const leases = runners.map((r) => r.currentLease);
    // Sockets first: nothing is sent or written for these sessions from here on.
    await Promise.allSettled(runners.map((r) => r.stop({ release: false })));
    await this.handOver(leases).catch((error: Error) => this.logger.warn(`hand-over failed, the leases will expire instead: ${error.message}`));
  }

  /**
   * One statement for every session this process held: those still held at
   * the same epoch read `connecting` (they should run on, elsewhere) and their
   * leases are released, so another worker may take them over at once instead
   * of after the TTL. With hundreds of sessions, one write each would not fit
   * in the shutdown grace period.
   */
  private async handOver(leases: Lease[]): Promise<void> {
    if (leases.length === 0) return;
    const held = JSON.stringify(leases.map((l) => ({ session_id: l.sessionId, epoch: l.epoch })));
    await this.dataSource.query(
      `WITH held AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS h(session_id uuid, epoch bigint)),
       current AS (
         SELECT l.session_id FROM session_leases l JOIN held h ON h.session_id = l.session_id AND h.epoch = l.epoch
          WHERE l.owner = $2 AND l.expires_at > now() FOR UPDATE OF l),
       moved AS (
         UPDATE sessions s SET status = 'connecting', status_reason = 'worker shutting down', qr = NULL, updated_at = now()
           FROM current c WHERE s.id = c.session_id AND s.status IN ('connected', 'qr', 'connecting', 'reconnecting') RETURNING s.id),
       audited AS (
         INSERT INTO events (session_id, type, detail)
         SELECT id, 'status', '{"status": "connecting", "statusReason": "worker shutting down"}'::jsonb FROM moved RETURNING id)
       UPDATE session_leases l SET expires_at = now() FROM current c WHERE l.session_id = c.session_id`,
      [held, this.ownerId],
    );
  }
}
