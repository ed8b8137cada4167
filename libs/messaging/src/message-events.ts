import { Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from '../../contracts/src';
import { EventBus } from '../../events/src/event-bus';
import type { DomainEvent } from '../../events/src/domain-event';
import type { MessageRecord } from './messages.repository';

/**
 * The message events of API.md, with deterministic ids: the same fact
 * published twice (a retry after a crash, a receipt and an ack both saying
 * `sent`) keeps one id, so webhook deliveries dedupe on it. A message that
 * comes back from the dead-letter queue starts a new round (`:r<n>`), whose
 * events are new facts.
 */
@Injectable()
export class MessageEvents {
  private readonly logger = new Logger('MessageEvents');

  constructor(private readonly bus: EventBus) {}

  static statusEventId(message: Pick<MessageRecord, 'sessionId' | 'messageId' | 'replays'>, status: string): string {
    return `${message.sessionId}:${message.messageId}:${status}${message.replays > 0 ? `:r${message.replays}` : ''}`;
  }

  async status(message: MessageRecord, status: 'sent' | 'delivered' | 'read' | 'played' | 'failed'): Promise<void> {
    await this.publish({
      id: MessageEvents.statusEventId(message, status),
      type: 'message.status',
      sessionId: message.sessionId,
      timestamp: message.statusTimes[status] ?? new Date().toISOString(),
      payload: {
        messageId: message.messageId,
        waMessageId: message.waMessageId,
        to: message.to,
        chat: message.chat,
        status,
        ...(status === 'failed' && { error: message.error, attempts: message.attempts }),
      },
    });
  }

  async failed(message: MessageRecord): Promise<void> {
    await this.status(message, 'failed');
    await this.publish({
      id: MessageEvents.statusEventId(message, 'message.failed'),
      type: 'message.failed',
      sessionId: message.sessionId,
      timestamp: message.statusTimes.failed ?? new Date().toISOString(),
      payload: { messageId: message.messageId, waMessageId: message.waMessageId, to: message.to, chat: message.chat, type: message.type, error: message.error, attempts: message.attempts },
    });
  }

  async received(sessionId: string, message: IncomingMessage): Promise<void> {
    await this.publish({
      id: `${sessionId}:${message.waMessageId}:received`,
      type: 'message.received',
      sessionId,
      timestamp: message.timestamp,
      payload: {
        messageId: message.waMessageId,
        from: message.from,
        to: message.to,
        chat: message.chat,
        pushName: message.pushName,
        type: message.type,
        body: message.body,
        timestamp: message.timestamp,
        ...(message.media && { media: message.media }),
      },
    });
  }

  private async publish(event: DomainEvent): Promise<void> {
    await this.bus.publish(event);
    this.logger.debug(`published ${event.type} ${event.id}`);
  }
}
