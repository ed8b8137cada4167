import { impliedDeliveryStatuses } from './message-status';
import { Injectable, Logger } from '@nestjs/common';
import { MessageEventSink, type DeliveryStatus, type IncomingMessage, type OutgoingMessage } from '../../contracts/src';
import { Metrics } from '../../observability/src/metrics';
import { persistentWrite, type PersistentWriteOptions } from '../../persistence/src/persistent-write';
import { MessageEvents } from './message-events';
import { MessagesRepository, type MessageRecord } from './messages.repository';
import { StatusWriter } from './status-writer';
import { toOutgoingMessage } from './outgoing-message';

/** What a log line and the failure metric say about a report. */
type Report = { kind: 'incoming' | 'status' } & Record<string, unknown>;

/**
 * Seven attempts, 100 ms apart and doubling, about 6 s in all: longer than a
 * database restart or a full connection pool. The session's following events
 * wait meanwhile, so they stay in order.
 */
const REPORT_WRITE_RETRIES: PersistentWriteOptions = { attempts: 7, firstDelayMs: 100 };

/**
 * What the engine reports about messages, stored and turned into events.
 * WhatsApp reports each once, and Baileys has already acknowledged an incoming
 * message to the server: a write given up on is lost. So each step (the row,
 * then its events) is retried on its own; one that failed after the database
 * applied it runs again harmlessly (unique inserts, forward-only updates,
 * events deduped by id), and a step that succeeded is not run again, so a
 * retry cannot skip an event.
 */
@Injectable()
export class StoredMessageEventSink extends MessageEventSink {
  private readonly logger = new Logger('StoredMessageEventSink');

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
    const report = { kind: 'incoming' as const, sessionId, waMessageId: message.waMessageId };
    const { value: stored, retried } = await this.persistently(report, () => this.messages.insertIncoming({
      sessionId,
      waMessageId: message.waMessageId,
      from: message.from,
      to: message.to,
      chat: message.chat,
      type: message.type,
      payload: { pushName: message.pushName, body: message.body, timestamp: message.timestamp, delivery: message.delivery, ...(message.media && { media: message.media }) },
      at: Number.isNaN(timestamp.getTime()) ? new Date() : timestamp,
    }));
    // After a failed attempt the row may be that attempt's (applied, its answer lost), its event never published:
    // publish it then too; events dedupe by id.
    if (stored || retried) await this.persistently(report, () => this.events.received(sessionId, message));
  }

  async statusUpdate(sessionId: string, waMessageId: string, status: DeliveryStatus | 'error', at: Date): Promise<void> {
    const report = { kind: 'status' as const, sessionId, waMessageId, status };
    if (status === 'error') {
      const attempt = await this.persistently(report, () =>
        this.messages.markFailedAfterAck(sessionId, waMessageId, { code: 'ERROR_ACK', message: 'WhatsApp reported an error for this message' }, at),
      );
      const failed = attempt.value ?? (attempt.retried ? await this.appliedBefore(report, sessionId, waMessageId, 'failed', at) : undefined);
      if (failed) {
        this.metrics.messagesFailed.inc({ code: 'ERROR_ACK' });
        await this.persistently(report, () => this.events.failed(failed));
      }
      return;
    }
    const attempt = await this.persistently(report, () => this.statuses.advanceDelivery({ sessionId, waMessageId, status, at }));
    const advanced = attempt.value ?? (attempt.retried ? await this.appliedBefore(report, sessionId, waMessageId, status, at) : undefined);
    if (!advanced) return;
    // WhatsApp may report only the furthest status (a read without its delivery): every status the
    // message reached gets its event. Event ids are per status, so one already published is not delivered twice.
    const receiptTime = at.toISOString();
    for (const reached of impliedDeliveryStatuses(status)) {
      // An earlier status this receipt filled in carries the receipt's time; one reached before keeps its own and was published then.
      if (reached === status || advanced.statusTimes[reached] === receiptTime) await this.persistently(report, () => this.events.status(advanced, reached));
    }
  }

  /**
   * After a retried status write that changed nothing: the message, if a failed attempt had already recorded this
   * report (its own status at its own time) and so its events may be unpublished.
   */
  private async appliedBefore(report: Report, sessionId: string, waMessageId: string, status: string, at: Date): Promise<MessageRecord | undefined> {
    const { value: message } = await this.persistently(report, () => this.messages.findOutgoingByWaId(sessionId, waMessageId));
    return message?.statusTimes[status] === at.toISOString() ? message : undefined;
  }

  /**
   * One step of storing a report, with retries (see the class); each failed attempt is counted, one given up on is
   * logged as lost. `retried`: an attempt failed first, so the one that succeeded may find that attempt's work done.
   */
  private async persistently<T>(report: Report, write: () => Promise<T>): Promise<{ value: T; retried: boolean }> {
    const failures = this.metrics.reportWriteFailures;
    let attempts = 0;
    try {
      const value = await persistentWrite(() => (attempts++, write()), {
        ...REPORT_WRITE_RETRIES,
        onRetry: (error, attempt, delayMs) => {
          failures.inc({ kind: report.kind, final: 'false' });
          this.logger.warn(`storing a WhatsApp report failed (attempt ${attempt}, again in ${delayMs} ms): ${JSON.stringify(report)}: ${(error as Error)?.message}`);
        },
      });
      return { value, retried: attempts > 1 };
    } catch (error) {
      failures.inc({ kind: report.kind, final: 'true' });
      this.logger.error(`storing a WhatsApp report failed for good, it is lost: ${JSON.stringify(report)}: ${(error as Error)?.message}`);
      throw error;
    }
  }

  async findOutgoing(sessionId: string, waMessageId: string): Promise<OutgoingMessage | undefined> {
    const record = await this.messages.findOutgoingByWaId(sessionId, waMessageId);
    return record ? toOutgoingMessage(record, this.messages) : undefined;
  }
}
