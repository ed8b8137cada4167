import { impliedDeliveryStatuses } from './message-status';
import { Injectable } from '@nestjs/common';
import { MessageEventSink, type DeliveryStatus, type IncomingMessage, type OutgoingMessage } from '../../contracts/src';
import { Metrics } from '../../observability/src/metrics';
import { MessageEvents } from './message-events';
import { MessagesRepository } from './messages.repository';
import { StatusWriter } from './status-writer';
import { toOutgoingMessage } from './outgoing-message';

/** What the engine reports about messages, stored and turned into events. */
@Injectable()
export class StoredMessageEventSink extends MessageEventSink {
  constructor(
    private readonly messages: MessagesRepository,
    private readonly statuses: StatusWriter,
    private readonly events: MessageEvents,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  /** Stored once per WhatsApp id whether it arrives live (`notify`) or after being offline (`append`), and announced once. */
  async incoming(sessionId: string, message: IncomingMessage): Promise<void> {
    const timestamp = new Date(message.timestamp);
    const stored = await this.messages.insertIncoming({
      sessionId,
      waMessageId: message.waMessageId,
      from: message.from,
      to: message.to,
      chat: message.chat,
      type: message.type,
      payload: { pushName: message.pushName, body: message.body, timestamp: message.timestamp, delivery: message.delivery, ...(message.media && { media: message.media }) },
      at: Number.isNaN(timestamp.getTime()) ? new Date() : timestamp,
    });
    if (stored) await this.events.received(sessionId, message);
  }

  async statusUpdate(sessionId: string, waMessageId: string, status: DeliveryStatus | 'error', at: Date): Promise<void> {
    if (status === 'error') {
      const failed = await this.messages.markFailedAfterAck(sessionId, waMessageId, { code: 'ERROR_ACK', message: 'WhatsApp reported an error for this message' }, at);
      if (failed) {
        this.metrics.messagesFailed.inc({ code: 'ERROR_ACK' });
        await this.events.failed(failed);
      }
      return;
    }
    const advanced = await this.statuses.advanceDelivery({ sessionId, waMessageId, status, at });
    if (!advanced) return;
    // WhatsApp may report only the furthest status (a read without its delivery): every status the
    // message reached gets its event. Event ids are per status, so one already published is not delivered twice.
    const receiptTime = at.toISOString();
    for (const reached of impliedDeliveryStatuses(status)) {
      // An earlier status this receipt filled in carries the receipt's time; one reached before keeps its own and was published then.
      if (reached === status || advanced.statusTimes[reached] === receiptTime) await this.events.status(advanced, reached);
    }
  }

  async findOutgoing(sessionId: string, waMessageId: string): Promise<OutgoingMessage | undefined> {
    const record = await this.messages.findOutgoingByWaId(sessionId, waMessageId);
    return record ? toOutgoingMessage(record, this.messages) : undefined;
  }
}
