import { Injectable } from '@nestjs/common';
import { DurableEventSink } from '../../../events/src/event-bus';
import type { DomainEvent } from '../../../events/src/domain-event';
import { MessageQueue, type JobContext } from '../../../queue/src';
import { type DeliveryJob, deliveryJobId, fanoutJobId, WEBHOOK_DELIVERY_QUEUE, WEBHOOK_FANOUT_QUEUE, WebhookJob } from '../jobs';
import { DeliveryStore } from './delivery-store';

/** The body every receiver gets (API.md); built once per event so every retry signs the same bytes. */
export const deliveryBody = (event: DomainEvent): string =>
  JSON.stringify({ event: event.type, sessionId: event.sessionId, timestamp: event.timestamp, payload: event.payload });

/**
 * The bus's durable sink for webhooks: `publish` resolves once the event's
 * fan-out job is stored. The job id derives from the event id, so an event
 * published twice is fanned out once.
 */
@Injectable()
export class EventOutbox extends DurableEventSink {
  constructor(
    private readonly queue: MessageQueue,
    private readonly store: DeliveryStore,
  ) {
    super();
  }

  async accept(event: DomainEvent): Promise<void> {
    await this.queue.enqueue(WEBHOOK_FANOUT_QUEUE, WebhookJob.Fanout, event, { jobId: fanoutJobId(event.id) });
  }

  /** The `WebhookFanout` job: one delivery row per matching subscription, then one delivery job each. */
  readonly fanOut = async (job: JobContext<DomainEvent>): Promise<void> => {
    const event = job.payload;
    const deliveryIds = await this.store.fanOut(event, deliveryBody(event));
    if (deliveryIds.length === 0) return;
    await this.queue.enqueueMany<DeliveryJob>(
      WEBHOOK_DELIVERY_QUEUE,
      deliveryIds.map((deliveryId) => {
        const payload = { deliveryId, replays: 0, attempt: 1 };
        return { name: WebhookJob.Delivery, payload, options: { jobId: deliveryJobId(payload) } };
      }),
    );
  };
}
