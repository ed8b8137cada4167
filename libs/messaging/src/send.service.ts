import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/src/app-config';
import { EventBus } from '../../events/src/event-bus';
import { payloadHash } from './canonical-json';
import { MessagingException } from './messaging.exception';
import { MessagesRepository, type MessageRecord } from './messages.repository';
import { normaliseSend } from './outgoing-payload';
import { SendJobs } from './send-jobs';
import { SendWriter } from './send-writer';
import type { SendAcceptedView, SendMessageDto } from './send.dto';
import { deriveWaMessageId } from './wa-message-id';

export interface SendOutcome {
  /** 202 accepted, 200 for a replay or a `wait=sent` that saw the outcome. */
  httpStatus: 200 | 202;
  replayed: boolean;
  body: SendAcceptedView;
}

const PENDING = new Set(['queued', 'sending', 'retrying']);
const WAIT_POLL_MS = 200;

/**
 * Accepting a send: validate -> idempotency key -> connection state -> store
 * -> enqueue. The accepting path is one conditional INSERT (connection usable,
 * key new) and the enqueue, both shared with concurrent sends (`SendWriter`);
 * only when it stores nothing are the key (first) and the state looked at, so
 * a replay on a connection that logged out since still answers as a replay.
 * The row and its job are stored before anything is answered, and the unique
 * (connection, messageId) constraint decides between concurrent duplicates.
 */
@Injectable()
export class SendService {
  constructor(
    private readonly messages: MessagesRepository,
    private readonly jobs: SendJobs,
    private readonly writer: SendWriter,
    private readonly config: AppConfig,
    private readonly bus: EventBus,
  ) {}

  async accept(sessionId: string, dto: SendMessageDto, options: { waitForSent: boolean }): Promise<SendOutcome> {
    const stored = normaliseSend(dto, { mediaMaxBytes: this.config.messaging.mediaMaxBytes });
    const hash = payloadHash(stored);

    const inserted = await this.writer.store({
      id: randomUUID(),
      sessionId,
      messageId: dto.messageId,
      to: stored.to,
      type: stored.content.type,
      payload: stored as unknown as Record<string, unknown>,
      payloadHash: hash,
      waMessageId: deriveWaMessageId(sessionId, dto.messageId),
      scheduledAt: stored.scheduledAt ? new Date(stored.scheduledAt) : null,
    });
    if (!inserted) {
      // Not stored: the key exists (an earlier or concurrent request: checked first), or the connection cannot take sends.
      const existing = await this.messages.findByMessageId(sessionId, dto.messageId);
      if (existing) return this.replay(existing, hash, options);
      const session = await this.messages.sessionState(sessionId);
      if (session?.status === 'logged_out') throw MessagingException.sessionLoggedOut(sessionId);
      throw MessagingException.sessionNotFound(sessionId);
    }
    if (!options.waitForSent) return { httpStatus: 202, replayed: false, body: accepted(inserted) };
    const settled = await this.waitForOutcome(inserted);
    return { httpStatus: PENDING.has(settled.status) ? 202 : 200, replayed: false, body: accepted(settled) };
  }

  private async replay(existing: MessageRecord, hash: string, options: { waitForSent: boolean }): Promise<SendOutcome> {
    if (existing.direction !== 'out' || existing.payloadHash !== hash) throw MessagingException.idempotencyConflict(existing.messageId);
    // A crash between the first request's insert and enqueue is healed by the client's retry (the job id makes this a no-op otherwise).
    if (existing.status === 'queued') await this.jobs.enqueue(existing);
    const current = options.waitForSent ? await this.waitForOutcome(existing) : existing;
    return { httpStatus: 200, replayed: true, body: accepted(current) };
  }

  /** Until the message left the pending statuses or the timeout; events wake it early, polling covers a worker in another process. */
  private async waitForOutcome(message: MessageRecord): Promise<MessageRecord> {
    const deadline = Date.now() + this.config.messaging.sendWaitTimeoutMs;
    let wake: () => void = () => undefined;
    const unsubscribe = this.bus.subscribe((event) => {
      if (event.sessionId === message.sessionId && event.payload.messageId === message.messageId) wake();
    });
    try {
      let current = message;
      while (PENDING.has(current.status) && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(WAIT_POLL_MS, Math.max(0, deadline - Date.now())));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        current = (await this.messages.findById(message.id)) ?? current;
      }
      return current;
    } finally {
      unsubscribe();
    }
  }
}

const accepted = (m: MessageRecord): SendAcceptedView => ({ queued: true, messageId: m.messageId, status: m.status });
