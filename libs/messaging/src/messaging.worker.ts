import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { SendError, SendErrorCode } from '../../contracts/src';
import { AppConfig } from '../../config/src/app-config';
import { Metrics } from '../../observability/src/metrics';
import { persistentWrite, type PersistentWriteOptions } from '../../persistence/src/persistent-write';
import { PermanentJobError } from '../../queue/src/errors';
import { JobHandlerRegistry } from '../../queue/src/job-handler-registry';
import { MessageQueue, type Consumer, type JobContext } from '../../queue/src/message-queue';
import { MessageEvents } from './message-events';
import { StatusWriter } from './status-writer';
import { MessagesRepository, type MessageError, type MessageRecord } from './messages.repository';
import { toOutgoingMessage } from './outgoing-message';
import { SEND_JOB, sendQueueName, type SendJobPayload } from './send-jobs';
import { SendOrder, type SendTurn } from './send-order';
import { SendPacer, pacingOf, type Pacing } from './send-pacer';
import { SessionGatewayRef } from './session-gateway-ref';
import { deriveWaMessageId } from './wa-message-id';

/** A send that neither acks nor fails within this time is a failed attempt (the same WhatsApp id makes the retry safe). */
const SEND_CALL_TIMEOUT_MS = 120_000;
/**
 * Once WhatsApp has taken a message, recording that is retried for a few
 * seconds (a database restart, a full pool): given up on, the attempt counts
 * as failed and the message is sent again (the same WhatsApp id, so the
 * recipient keeps one, but a second send all the same), and its `sent` event
 * would be lost.
 */
const AFTER_ACK_RETRIES: PersistentWriteOptions = { attempts: 6, firstDelayMs: 100 };

/**
 * The `MessageSend` job handler and the per-session consumers. The session
 * runner calls `startSession` when this process gains a session and
 * `stopSession` when it loses it, so a session's sends run where its socket is.
 */
@Injectable()
export class MessagingWorker implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('MessagingWorker');
  private readonly consumers = new Map<string, Promise<Consumer>>();
  private readonly pacer = new SendPacer();
  private readonly order = new SendOrder();
  private readonly stopping = new Map<string, AbortController>();

  constructor(
    private readonly queue: MessageQueue,
    private readonly registry: JobHandlerRegistry,
    private readonly messages: MessagesRepository,
    private readonly statuses: StatusWriter,
    private readonly events: MessageEvents,
    private readonly gateway: SessionGatewayRef,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.registry.register<SendJobPayload>(SEND_JOB, (job) => this.handle(job));
  }

  /** Starts sending this session's messages here (in order; up to `sendWindow` under way at once). Idempotent. */
  async startSession(sessionId: string): Promise<void> {
    if (!this.consumers.has(sessionId)) {
      this.stopping.set(sessionId, new AbortController());
      this.consumers.set(sessionId, this.queue.consume(sendQueueName(sessionId), this.registry.dispatch, { concurrency: this.config.messaging.sendWindow }));
    }
    await this.consumers.get(sessionId);
  }

  /** Stops taking this session's jobs; a running send finishes (or its pacing wait is cut short and retried elsewhere). */
  async stopSession(sessionId: string): Promise<void> {
    const consumer = this.consumers.get(sessionId);
    if (!consumer) return;
    this.consumers.delete(sessionId);
    this.stopping.get(sessionId)?.abort();
    this.stopping.delete(sessionId);
    this.pacer.forget(sessionId);
    await (await consumer).close();
  }

  get sessions(): string[] {
    return [...this.consumers.keys()];
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.sessions.map((id) => this.stopSession(id).catch(() => undefined)));
  }

  async handle(job: JobContext<SendJobPayload>): Promise<void> {
    // Taken before anything is awaited: the sends of a connection leave in the order the queue handed out their jobs.
    const turn = this.order.enter(job.payload.sessionId);
    try {
      // Only a message still waiting to be sent starts an attempt: one sent, failed or gone since the job was made is left alone (handlers run at least once).
      const started = await this.statuses.startSending(job.payload.id);
      if (!started) return;
      try {
        await this.send(started.message, started.sessionConfig, turn);
      } catch (error) {
        turn.leave();
        await this.failAttempt(started.message, job, error);
      }
    } finally {
      turn.leave();
    }
  }

  private async send(message: MessageRecord, sessionConfig: Record<string, unknown> | undefined, turn: SendTurn): Promise<void> {
    const gateway = this.gateway.current;
    if (!(await gateway.waitUntilConnected(message.sessionId, this.config.messaging.sendConnectWaitMs))) {
      throw new SendError(SendErrorCode.SessionNotConnected, `session ${message.sessionId} did not connect within ${this.config.messaging.sendConnectWaitMs} ms`);
    }
    // The send before this one has left (or given up): pacing then sees it, and this one cannot overtake it.
    await turn.ready;
    const pacing = await this.pace(message, sessionConfig);
    // Deterministic: every attempt and every replay is the same WhatsApp message.
    const waMessageId = message.waMessageId ?? deriveWaMessageId(message.sessionId, message.messageId);
    const outgoing = await toOutgoingMessage(message, this.messages);
    const onWritten = () => {
      // The sends behind this one pace from when it left, not from when its attempt began: a slow first send (device
      // lookup, session setup) must not shorten their gap.
      this.pacer.record(message.sessionId, message.to, pacing);
      turn.leave();
    };
    const { ackAt } = await withTimeout(gateway.send(message.sessionId, outgoing, waMessageId, { onWritten }), SEND_CALL_TIMEOUT_MS);
    // The gap counts from when WhatsApp took the message, not from when the send began: a slow first send
    // (device lookup, session setup) must not shorten the gap before the next one.
    this.pacer.record(message.sessionId, message.to, pacing);
    const retrying: PersistentWriteOptions = {
      ...AFTER_ACK_RETRIES,
      onRetry: (error) => this.logger.warn(`recording the ack of ${message.id} failed, trying again: ${(error as Error)?.message}`),
    };
    // Safe to run twice: it only records the ack (an applied write whose answer was lost still returns the row).
    const sent = await persistentWrite(() => this.statuses.markSent(message.id, ackAt), retrying);
    this.metrics.messagesSent.inc({ type: message.type });
    if (sent) await persistentWrite(() => this.events.status(sent, 'sent'), retrying);
  }

  /** The connection's pacing as its config said when the attempt started (read with it, see `startSending`). */
  private async pace(message: MessageRecord, sessionConfig: Record<string, unknown> | undefined): Promise<Pacing> {
    const pacing = pacingOf(sessionConfig, { messagesPerMinute: this.config.messaging.pacingMessagesPerMinute, minGapPerRecipientMs: this.config.messaging.pacingMinGapPerRecipientMs });
    const signal = this.stopping.get(message.sessionId)?.signal;
    for (let delay = this.pacer.delayMs(message.sessionId, message.to, pacing); delay > 0; delay = this.pacer.delayMs(message.sessionId, message.to, pacing)) {
      await sleep(delay, signal);
      if (signal?.aborted) throw new SendError(SendErrorCode.SessionNotConnected, 'the session moved away from this worker while the send was paced');
    }
    // Held until the send went out (see send): until then the slot stays taken, so two sends never overlap.
    this.pacer.record(message.sessionId, message.to, pacing);
    return pacing;
  }

  /**
   * A permanent error fails the message at once; a transient one marks it
   * `retrying` and lets the queue's backoff run it again, until the last
   * attempt, which fails it. A failed message is in the dead-letter queue
   * (and so is its job).
   */
  private async failAttempt(message: MessageRecord, job: JobContext<SendJobPayload>, error: unknown): Promise<never> {
    const sendError = asSendError(error);
    const reason: MessageError = { code: sendError.code, message: sendError.message };
    const final = sendError.permanent || job.attempt >= job.maxAttempts;
    if (!final) {
      await this.messages.markRetrying(message.id, reason);
      this.logger.warn(`send ${message.id} attempt ${job.attempt}/${job.maxAttempts} failed: ${reason.code} ${reason.message}`);
      throw error;
    }
    const failed = await this.messages.markFailed(message.id, reason);
    if (failed) {
      this.metrics.messagesFailed.inc({ code: reason.code });
      await this.events.failed(failed);
    }
    this.logger.warn(`send ${message.id} failed for good after ${job.attempt} attempt(s): ${reason.code} ${reason.message}`);
    if (sendError.permanent) throw new PermanentJobError(`${reason.code}: ${reason.message}`, { cause: error });
    throw error;
  }
}

function asSendError(error: unknown): SendError {
  if (error instanceof SendError) return error;
  const e = error as { name?: string; code?: unknown; message?: string };
  if (e?.name === 'SendError' && Object.values(SendErrorCode).includes(e.code as SendErrorCode)) return new SendError(e.code as SendErrorCode, e.message ?? '');
  return Object.assign(new SendError(SendErrorCode.Timeout, e?.message ?? String(error)), { code: 'SEND_FAILED' as SendErrorCode });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new SendError(SendErrorCode.Timeout, `no server ack within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
