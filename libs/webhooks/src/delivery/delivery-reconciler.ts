import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MessageQueue } from '../../../queue/src';
import type { NewJob } from '../../../queue/src';
import { type DeliveryJob, deliveryJobId, type FirstAttemptsJob, WEBHOOK_DELIVERY_QUEUE, WebhookJob } from '../jobs';
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
 * Re-enqueues overdue pending deliveries under the job id their attempt was
 * (or was to be) enqueued with: a first attempt under the job noted at fan-out,
 * any other attempt under its own. Enqueueing is idempotent on the job id, so
 * a delivery whose job is merely slow is not doubled.
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

  /** Returns the number of jobs it created. */
  async reconcile(now = Date.now()): Promise<number> {
    const overdue = await this.store.overdue(new Date(now - RECONCILE_GRACE_MS), BATCH);
    if (overdue.length === 0) return 0;
    const firstAttempts = new Map<string, string[]>();
    const jobs: Array<NewJob<DeliveryJob | FirstAttemptsJob>> = [];
    for (const { id, replays, attempt, firstJobId } of overdue) {
      if (firstJobId && replays === 0 && attempt === 1) {
        firstAttempts.set(firstJobId, [...(firstAttempts.get(firstJobId) ?? []), id]);
        continue;
      }
      const payload = { deliveryId: id, replays, attempt };
      jobs.push({ name: WebhookJob.Delivery, payload, options: { jobId: deliveryJobId(payload) } });
    }
    for (const [jobId, deliveryIds] of firstAttempts) jobs.push({ name: WebhookJob.FirstAttempts, payload: { deliveryIds }, options: { jobId } });
    const results = await this.queue.enqueueMany(WEBHOOK_DELIVERY_QUEUE, jobs);
    const created = results.filter((r) => r.created).length;
    if (created > 0) this.logger.warn(`re-enqueued ${created} jobs of overdue webhook deliveries`);
    return created;
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
