import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/src/app-config';
import { MessageQueue, type EnqueueResult, type NewJob, type RowsInsert } from '../../queue/src/message-queue';
import type { MessageRecord } from './messages.repository';
import { MessagesRepository } from './messages.repository';

export const SEND_JOB = 'MessageSend';
/** The job names this library produces (apps/gateway/src/jobs.ts lists them for the boot check). */
export const MESSAGING_JOB_NAMES: readonly string[] = [SEND_JOB];

/** One queue per session: a consumer with concurrency 1 sends a session's messages one at a time, in order. */
export const sendQueueName = (sessionId: string) => `message-send.${sessionId}`;

export interface SendJobPayload {
  /** The message row. */
  id: string;
  sessionId: string;
}

/**
 * How sends become queue jobs. The job id is the message row id (per
 * dead-letter round, see `replay`), so enqueueing again — a client retry, the
 * reconciler, a crash between insert and enqueue — adds nothing.
 */
@Injectable()
export class SendJobs {
  constructor(
    private readonly queue: MessageQueue,
    private readonly config: AppConfig,
    private readonly messages: MessagesRepository,
  ) {}

  private retry() {
    const { sendMaxAttempts, sendRetryBaseDelayMs } = this.config.messaging;
    return { attempts: sendMaxAttempts, baseDelayMs: sendRetryBaseDelayMs, factor: 2, maxDelayMs: Math.max(sendRetryBaseDelayMs, 10 * 60 * 1000) };
  }

  /** `justInserted`: the caller created the row a moment ago, so its job cannot exist yet (the queue need not ask). */
  enqueue(message: MessageRecord, { jobId = message.jobId ?? message.id, justInserted = false } = {}): Promise<EnqueueResult> {
    const { name, payload, options } = this.jobOf(message, jobId, justInserted);
    return this.queue.enqueue<SendJobPayload>(sendQueueName(message.sessionId), name, payload, options);
  }

  /**
   * Stores new rows of accepted sends (`rows`, keyed by message id) and the
   * job of each row stored, as one unit where the queue can
   * (`MessageQueue.insertWithJobs`: one statement with the database queue);
   * resolves to the ids stored. The rows are new, so their jobs cannot exist.
   */
  storeWithJobs(rows: RowsInsert, messages: ReadonlyArray<Pick<MessageRecord, 'id' | 'sessionId' | 'scheduledAt'>>): Promise<Set<string>> {
    return this.queue.insertWithJobs<SendJobPayload>(
      rows,
      messages.map((m) => ({ key: m.id, queue: sendQueueName(m.sessionId), job: this.jobOf(m, m.id, true) })),
    );
  }

  private jobOf(message: Pick<MessageRecord, 'id' | 'sessionId' | 'scheduledAt'>, jobId: string, justInserted: boolean): NewJob<SendJobPayload> {
    const delayMs = message.scheduledAt ? Math.max(0, message.scheduledAt.getTime() - Date.now()) : 0;
    return { name: SEND_JOB, payload: { id: message.id, sessionId: message.sessionId }, options: { jobId, delayMs, retry: this.retry(), newJobId: justInserted } };
  }

  /** The dead job goes back with fresh attempts; when it is gone (discarded, Redis flushed, completed) a new job of this round is enqueued. */
  async replay(message: MessageRecord): Promise<void> {
    const queue = sendQueueName(message.sessionId);
    if (message.jobId && (await this.queue.replayDeadLetter(queue, message.jobId))) return;
    const jobId = `${message.id}-r${message.replays}`;
    await this.messages.setJobId(message.id, jobId);
    await this.enqueue(message, { jobId });
  }

  state(message: MessageRecord) {
    return this.queue.getJob(sendQueueName(message.sessionId), message.jobId ?? message.id);
  }
}
