import { Injectable } from '@nestjs/common';
import type { Cursor } from '../../../http/src/cursor';
import { MessageQueue } from '../../../queue/src';
import type { DeliveryState } from '../entities/webhook-delivery.entity';
import { deliveryJobId, WEBHOOK_DELIVERY_QUEUE, WebhookJob } from '../jobs';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { WebhooksException } from '../webhooks.exception';
import { type DeliveryRow, DeliveryStore } from './delivery-store';

/** Listing and replaying a subscription's deliveries (the API side). */
@Injectable()
export class DeliveriesService {
  constructor(
    private readonly store: DeliveryStore,
    private readonly subscriptions: SubscriptionsService,
    private readonly queue: MessageQueue,
  ) {}

  async page(subscriptionId: string, limit: number, state?: DeliveryState, before?: Cursor) {
    await this.subscriptions.get(subscriptionId);
    return this.store.page(subscriptionId, limit, state, before);
  }

  /** A finished delivery (failed, disabled, or even succeeded) goes out again with the same webhook-id, as a fresh run of the schedule. */
  async replay(subscriptionId: string, deliveryId: string): Promise<DeliveryRow> {
    const subscription = await this.subscriptions.get(subscriptionId);
    const delivery = await this.store.find(subscriptionId, deliveryId);
    if (!delivery) throw WebhooksException.deliveryNotFound(deliveryId);
    // A disabled subscription is turned back on by the replay: asking for a delivery says the endpoint is back.
    if (subscription.state !== 'active') await this.subscriptions.enable(subscriptionId);
    const run = await this.store.replay(delivery.id);
    if (!run) throw WebhooksException.notReplayable(deliveryId, delivery.state);
    const job = { deliveryId: delivery.id, ...run };
    await this.queue.enqueue(WEBHOOK_DELIVERY_QUEUE, WebhookJob.Delivery, job, { jobId: deliveryJobId(job) });
    return (await this.store.find(subscriptionId, deliveryId))!;
  }
}
