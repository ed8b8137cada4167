import { Injectable } from '@nestjs/common';
import { Metrics } from '../../observability/src/metrics';
import { GroupCommit, ItemFailure } from '../../persistence/src/group-commit';
import { MessagesRepository, type MessageRecord, type NewOutgoing } from './messages.repository';
import { SendJobs } from './send-jobs';

/** Sends accepted at the same time share one write; beyond this a batch waits for the next. */
const MAX_BATCH = 200;
/**
 * Batches written at once. One: sends that arrive while a batch is being
 * written form the next, larger batch, and every batch costs a round trip to
 * PostgreSQL and one to Redis whatever its size. At 700-1,000 req/s this took
 * the gateway from 81-87 % to 74-77 % CPU compared with four in flight
 * (bench:send, BullMQ), and the tail with it.
 */
const MAX_IN_FLIGHT = 1;

/**
 * The durable half of accepting a send: the message row and its job, stored
 * together (`SendJobs.storeWithJobs`: one statement with the database queue,
 * the row then the job with BullMQ). Sends accepted concurrently are written
 * together, one write for all their rows and jobs; each caller still resumes
 * only once its own row and job are stored. A batch the database refuses as a
 * whole (one bad row) is retried row by row, so one request's failure is
 * never another's.
 */
@Injectable()
export class SendWriter {
  private readonly batches = new GroupCommit<NewOutgoing, MessageRecord | undefined>((items) => this.writeBatch(items), { maxBatch: MAX_BATCH, maxInFlight: MAX_IN_FLIGHT });

  constructor(
    private readonly messages: MessagesRepository,
    private readonly jobs: SendJobs,
    private readonly metrics: Metrics,
  ) {}

  /** Stores and enqueues the send; undefined when nothing was stored (the key exists, or the connection cannot take sends). */
  store(send: NewOutgoing): Promise<MessageRecord | undefined> {
    return this.batches.add(send);
  }

  private async writeBatch(items: NewOutgoing[]): Promise<Array<MessageRecord | undefined | ItemFailure>> {
    this.metrics.sendWriteRows.observe(items.length);
    if (items.length === 1) return this.write(items);
    try {
      return await this.write(items);
    } catch {
      return Promise.all(items.map((item) => this.write([item]).then(([record]) => record, (error: unknown) => new ItemFailure(error))));
    }
  }

  /** The rows and jobs of `items`; per item, its record, or undefined when its row was not stored. */
  private async write(items: NewOutgoing[]): Promise<Array<MessageRecord | undefined>> {
    const at = new Date();
    const end = this.metrics.sendWriteDuration.startTimer({ stage: 'store' });
    let stored: Set<string>;
    try {
      stored = await this.jobs.storeWithJobs(this.messages.outgoingInsert(items, at), items);
    } finally {
      end();
    }
    const records = this.messages.storedRecords(items, stored, at);
    return items.map((item) => records.get(item.id));
  }
}
