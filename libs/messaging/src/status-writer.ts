import { Injectable } from '@nestjs/common';
import { GroupCommit } from '../../persistence/src/group-commit';
import { deliveryKey, MessagesRepository, type DeliveryReceipt, type MessageRecord } from './messages.repository';

type StartedAttempt = { message: MessageRecord; sessionConfig: Record<string, unknown> | undefined };

/** Attempts, acks and receipts arriving at the same time share one statement; beyond this a batch waits for the next. */
const MAX_BATCH = 200;
const MAX_IN_FLIGHT = 2;

/**
 * The status changes of sending — attempts starting, and what WhatsApp
 * reports (server acks, receipts) — written in group commits: under load
 * every session's consumer starts, and every session's acks and receipts
 * arrive, at once; one UPDATE for all of them replaces one per message. Each caller
 * still resumes only once its own change is stored, with its own row.
 */
@Injectable()
export class StatusWriter {
  private readonly attempts = new GroupCommit<{ id: string; at: Date }, StartedAttempt | undefined>((items) => this.writeAttempts(items), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
  });
  private readonly acks = new GroupCommit<{ id: string; ackAt: Date }, MessageRecord | undefined>((items) => this.writeAcks(items), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
  });
  private readonly receipts = new GroupCommit<DeliveryReceipt, MessageRecord | undefined>((items) => this.writeReceipts(items), {
    maxBatch: MAX_BATCH,
    maxInFlight: MAX_IN_FLIGHT,
  });

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

/**
 * One UPDATE changes a row at most once, so two changes of one message in a
 * batch (a delivery and a read receipt together) go in successive statements,
 * in arrival order.
 */
async function inRounds<I, O>(items: I[], keyOf: (item: I) => string, write: (round: I[]) => Promise<O[]>): Promise<O[]> {
  const results = new Array<O>(items.length);
  let pending = items.map((item, index) => ({ item, index }));
  while (pending.length > 0) {
    const seen = new Set<string>();
    const round: typeof pending = [];
    const later: typeof pending = [];
    for (const entry of pending) {
      const key = keyOf(entry.item);
      if (seen.has(key)) later.push(entry);
      else {
        seen.add(key);
        round.push(entry);
      }
    }
    const written = await write(round.map((entry) => entry.item));
    round.forEach((entry, i) => (results[entry.index] = written[i]));
    pending = later;
  }
  return results;
}
