import { Injectable } from '@nestjs/common';
import { GroupCommit, inRounds } from '../../persistence/src/group-commit';
import { deliveryKey, MessagesRepository, type DeliveryReceipt, type MessageRecord } from './messages.repository';

type StartedAttempt = { message: MessageRecord; sessionConfig: Record<string, unknown> | undefined };

/** Attempts, acks and receipts arriving at the same time share one statement (up to maxBatch; beyond, a batch waits for the next). */
const BATCHING = { maxBatch: 200, maxInFlight: 2 };

/**
 * The status changes of sending — attempts starting, and what WhatsApp
 * reports (server acks, receipts) — written in group commits: under load
 * every session's consumer starts, and every session's acks and receipts
 * arrive, at once; one UPDATE for all of them replaces one per message. Each caller
 * still resumes only once its own change is stored, with its own row.
 */
@Injectable()
export class StatusWriter {
  private readonly attempts = new GroupCommit<{ id: string; at: Date }, StartedAttempt | undefined>((items) => this.writeAttempts(items), BATCHING);
  private readonly acks = new GroupCommit<{ id: string; ackAt: Date }, MessageRecord | undefined>((items) => this.writeAcks(items), BATCHING);
  private readonly receipts = new GroupCommit<DeliveryReceipt, MessageRecord | undefined>((items) => this.writeReceipts(items), BATCHING);

  constructor(private readonly messages: MessagesRepository) {}

  /** Starts an attempt (see MessagesRepository.startSending); undefined when the message is no longer waiting to be sent. */
  startSending(id: string, at = new Date()): Promise<StartedAttempt | undefined> {
    return this.attempts.add({ id, at });
  }

  /** The server ack of a send; undefined when the message did not change (failed meanwhile, gone). */
  markSent(id: string, ackAt: Date): Promise<MessageRecord | undefined> {
    return this.acks.add({ id, ackAt });
  }

  /** A receipt; undefined when it moves nothing forward (an older or repeated receipt, an unknown message). */
  advanceDelivery(receipt: DeliveryReceipt): Promise<MessageRecord | undefined> {
    return this.receipts.add(receipt);
  }

  private writeAttempts(items: Array<{ id: string; at: Date }>): Promise<Array<StartedAttempt | undefined>> {
    return inRounds(items, (attempt) => attempt.id, async (round) => {
      const written = await this.messages.startSendingMany(round);
      return round.map((attempt) => written.get(attempt.id));
    });
  }

  private writeAcks(items: Array<{ id: string; ackAt: Date }>): Promise<Array<MessageRecord | undefined>> {
    return inRounds(items, (ack) => ack.id, async (round) => {
      const written = await this.messages.markSentMany(round);
      return round.map((ack) => written.get(ack.id));
    });
  }

  private writeReceipts(items: DeliveryReceipt[]): Promise<Array<MessageRecord | undefined>> {
    const keyOf = (r: DeliveryReceipt) => deliveryKey(r.sessionId, r.waMessageId);
    return inRounds(items, keyOf, async (round) => {
      const written = await this.messages.advanceDeliveryMany(round);
      return round.map((r) => written.get(keyOf(r)));
    });
  }
}
