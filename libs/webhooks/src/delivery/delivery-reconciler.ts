import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MessageQueue } from '../../../queue/src';
import { type DeliveryJob, deliveryJobId, WEBHOOK_DELIVERY_QUEUE, WebhookJob } from '../jobs';
import { DeliveryStore } from './delivery-store';

const INTERVAL_MS = 30_000;
/**
 * A pending delivery this late has lost its job: a crash between recording
 * an event's deliveries and enqueueing them, or between recording an attempt
 * and enqueueing the next.
 */
export const RECONCILE_GRACE_MS = 60_000;
const BATCH = 500;

/**
 * Re-enqueues overdue pending deliveries. Enqueueing is idempotent on the
 * attempt's job id, so a delivery whose job is merely slow is not doubled.
 */
@Injectable()
export class DeliveryReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly store: DeliveryStore,
    private readonly queue: MessageQueue,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.reconcile()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn(`webhook reconciliation failed: ${(error as Error).message}`))
        .finally(() => (this.running = undefined));
    }, INTERVAL_MS);
    this.timer.unref();
  }

  async reconcile(now = Date.now()): Promise<number> {
    const overdue = await this.store.overdue(new Date(now - RECONCILE_GRACE_MS), BATCH);
    if (overdue.length === 0) return 0;
    const results = await this.queue.enqueueMany<DeliveryJob>(
      WEBHOOK_DELIVERY_QUEUE,
      overdue.map(({ id, replays, attempt }) => {
        const payload = { deliveryId: id, replays, attempt };
        return { name: WebhookJob.Delivery, payload, options: { jobId: deliveryJobId(payload) } };
      }),
    );
    const created = results.filter((r) => r.created).length;
    if (created > 0) this.logger.warn(`re-enqueued ${created} overdue webhook deliveries`);
    return created;
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
