import { Injectable } from '@nestjs/common';
import type { Principal } from '../../auth/src/principal';
import { AuthException } from '../../auth/src/auth.exception';
import { decodeCursor, encodeCursor } from '../../http/src/cursor';
import { MessagingException } from './messaging.exception';
import { DeadLetterListView, DeadLetterView, MessageListView, MessageView, type DeadLetterQueryDto, type MessageListQueryDto, type ReplayedView } from './message.views';
import { MessagesRepository, type MessageRecord } from './messages.repository';
import { normaliseRecipient } from './recipient';
import { SendJobs } from './send-jobs';

/** Reading messages and handling dead letters for the REST API. */
@Injectable()
export class MessagingApiService {
  constructor(
    private readonly messages: MessagesRepository,
    private readonly jobs: SendJobs,
  ) {}

  async get(sessionId: string, messageId: string): Promise<MessageView> {
    const message = await this.messages.findByMessageId(sessionId, messageId);
    if (!message) {
      if (!(await this.messages.sessionState(sessionId))) throw MessagingException.sessionNotFound(sessionId);
      throw MessagingException.messageNotFound(messageId);
    }
    return MessageView.of(message);
  }

  async list(sessionId: string, query: MessageListQueryDto): Promise<MessageListView> {
    if (!(await this.messages.sessionState(sessionId))) throw MessagingException.sessionNotFound(sessionId);
    const page = await this.messages.page(
      sessionId,
      { direction: query.direction, status: query.status, chat: query.chat ? (normaliseRecipient(query.chat) ?? query.chat) : undefined, since: query.since ? new Date(query.since) : undefined },
      query.limit ?? 50,
      decodeCursor(query.cursor),
    );
    return { items: page.items.map(MessageView.of), nextCursor: page.nextCursor && encodeCursor(page.nextCursor) };
  }

  async deadLetters(principal: Principal, query: DeadLetterQueryDto): Promise<DeadLetterListView> {
    const page = await this.messages.page(scopeOf(principal, query.sessionId), { deadLetters: true }, query.limit ?? 50, decodeCursor(query.cursor));
    return { items: page.items.map(DeadLetterView.of), nextCursor: page.nextCursor && encodeCursor(page.nextCursor) };
  }

  async replay(principal: Principal, messageId: string, sessionId?: string): Promise<ReplayedView> {
    const target = await this.deadLetter(principal, messageId, sessionId);
    const requeued = await this.messages.requeueDeadLetter(target.id);
    if (!requeued) throw MessagingException.deadLetterNotFound(messageId);
    await this.jobs.replay(requeued);
    return { queued: true, messageId: requeued.messageId, sessionId: requeued.sessionId, status: requeued.status };
  }

  async discard(principal: Principal, messageId: string, sessionId?: string): Promise<void> {
    const target = await this.deadLetter(principal, messageId, sessionId);
    if (!(await this.messages.discardDeadLetter(target.id))) throw MessagingException.deadLetterNotFound(messageId);
  }

  /** A messageId is unique per connection only: with dead letters on several connections the caller must say which. */
  private async deadLetter(principal: Principal, messageId: string, sessionId?: string): Promise<MessageRecord> {
    const found = await this.messages.findDeadLetters(messageId, scopeOf(principal, sessionId));
    if (found.length === 0) throw MessagingException.deadLetterNotFound(messageId);
    if (found.length > 1) throw MessagingException.deadLetterAmbiguous(messageId, found.map((m) => m.sessionId));
    return found[0];
  }
}

/** Admin keys see every connection (or the one asked for); a scoped key only its own. */
function scopeOf(principal: Principal, sessionId?: string): string | undefined {
  if (principal.role === 'admin') return sessionId;
  if (sessionId && sessionId !== principal.sessionId) throw AuthException.otherConnection();
  return principal.sessionId!;
}
