import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DurableEventSink } from '../../../events/src/event-bus';
import type { DomainEvent } from '../../../events/src/domain-event';
import { MessageQueue, type JobContext } from '../../../queue/src';
import { type FirstAttemptsJob, WEBHOOK_DELIVERY_QUEUE, WebhookJob } from '../jobs';
import { SubscriptionDirectory } from '../subscriptions/subscription-directory';
import { DeliveryStore } from './delivery-store';
import { GroupCommit } from '../../../persistence/src/group-commit';

/** The body every receiver gets (API.md); built once per event so every retry signs the same bytes. */
export const deliveryBody = (event: DomainEvent): string =>
  JSON.stringify({ event: event.type, sessionId: event.sessionId, timestamp: event.timestamp, payload: event.payload });

/** Events written by one fan-out statement at most. */
const FANOUT_BATCH = 200;
/**
 * Events whose deliveries' first attempts share one job: fewer jobs to store,
 * claim and complete under load, while a batch still spreads over several
 * jobs (and so over several workers).
 */
const EVENTS_PER_JOB = 16;

/**
 * The bus's durable sink for webhooks: `publish` resolves once the event and
 * one delivery row per matching subscription are stored, and the first
 * attempt of each delivery is enqueued. Events published at the same time
 * share one statement and one enqueue (group commit), and the first
 * attempts of a few events' deliveries share one job.
 *
 * An event id already recorded creates no delivery (unique (event,
 * subscription)) and enqueues nothing; a crash between the statement and the
 * enqueue leaves pending deliveries without a job, which the reconciler
 * enqueues once they are overdue.
 */
@Injectable()
export class EventOutbox extends DurableEventSink {
  private readonly batches = new GroupCommit<DomainEvent, void>((events) => this.record(events), { maxBatch: FANOUT_BATCH, maxInFlight: 1 });

  constructor(
    private readonly queue: MessageQueue,
    private readonly store: DeliveryStore,
    private readonly directory: SubscriptionDirectory,
  ) {
    super();
  }

  async accept(event: DomainEvent): Promise<void> {
    if (!(await this.directory.mayMatch(event))) return;
    await this.batches.add(event);
  }

  private async record(events: DomainEvent[]): Promise<void[]> {
    const jobIds = events.map((_, i) => (i % EVENTS_PER_JOB === 0 ? randomUUID() : ''));
    const jobIdOf = (i: number) => jobIds[i - (i % EVENTS_PER_JOB)];
    const created = await this.store.fanOut(events.map((event, i) => ({ event, body: deliveryBody(event), jobId: jobIdOf(i) })));
    const jobs = new Map<string, string[]>();
    created.forEach((deliveryIds, i) => {
      if (deliveryIds.length === 0) return;
      const jobId = jobIdOf(i);
      jobs.set(jobId, [...(jobs.get(jobId) ?? []), ...deliveryIds]);
    });
    if (jobs.size > 0) {
      await this.queue.enqueueMany<FirstAttemptsJob>(
        WEBHOOK_DELIVERY_QUEUE,
        [...jobs].map(([jobId, deliveryIds]) => ({ name: WebhookJob.FirstAttempts, payload: { deliveryIds }, options: { jobId } })),
      );
    }
    return events.map(() => undefined);
  }

  /**
   * A `WebhookFanout` job, as enqueued for each event by earlier versions:
   * drained through the same path, so an upgrade loses none of them.
   */
  readonly fanOutLegacyJob = async (job: JobContext<DomainEvent>): Promise<void> => {
    await this.batches.add(job.payload);
  };
}
