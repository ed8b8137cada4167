import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../../config/src';
import { Metrics } from '../../../observability/src/metrics';
import { MessageQueue, type JobContext } from '../../../queue/src';
import { WebhookUrlGuard } from '../guard/url-guard';
import { type DeliveryJob, deliveryJobId, type FirstAttemptsJob, WEBHOOK_DELIVERY_QUEUE, WebhookJob } from '../jobs';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { type AttemptTarget, DeliveryStore, type SuccessRecord } from './delivery-store';
import { EndpointLimiter } from './endpoint-limiter';
import { GroupCommit } from '../../../persistence/src/group-commit';
import { createPinnedAgent } from '../../../outbound/src/pinned-agent';
import { nextAttemptDelayMs } from './retry-schedule';
import { signatureHeader } from './signing';
import { type SendOutcome, WebhookSender } from './webhook-sender';

export type DeliveryResult = 'success' | 'retry' | 'failed' | 'gone' | 'refused';

/** Deliveries loaded, or successes stored, by one statement at most. */
const STATEMENT_BATCH = 200;

/**
 * Runs one attempt of one delivery (the `WebhookDelivery` job, or one of the
 * deliveries of a `WebhookFirstAttempts` job) and decides what follows: done,
 * the next attempt on the stored schedule (as a new delayed job), failed when
 * the schedule is spent, or the subscription disabled (410, or failing for
 * too long). HTTP failures never throw: the
 * schedule is ours, not the queue's; a throw means the attempt could not be
 * recorded, and the queue retries the job.
 *
 * Attempts running at the same time share their statements: one query loads
 * every target that was asked for meanwhile, one UPDATE stores every success.
 * Each attempt still waits for its own row to be written before its job
 * completes, so a crash can only repeat a request that got no recorded
 * answer, with the same webhook-id (at-least-once; receivers dedupe on it).
 */
@Injectable()
export class DeliveryProcessor implements OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private readonly agent;
  private readonly sender: WebhookSender;
  private readonly limiter: EndpointLimiter;
  /** Requests in flight in this process, all endpoints together (a first-attempts job carries several). */
  private readonly inFlight: EndpointLimiter;
  private readonly targets: GroupCommit<string, AttemptTarget | null>;
  private readonly successes: GroupCommit<SuccessRecord, boolean>;

  constructor(
    private readonly store: DeliveryStore,
    private readonly subscriptions: SubscriptionsService,
    private readonly queue: MessageQueue,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    guard: WebhookUrlGuard,
  ) {
    const settings = config.webhookDelivery;
    this.agent = createPinnedAgent(guard, { connectionsPerOrigin: settings.maxInFlightPerEndpoint, connectTimeoutMs: settings.timeoutMs });
    this.sender = new WebhookSender(this.agent, guard, settings.timeoutMs);
    this.limiter = new EndpointLimiter(settings.maxInFlightPerEndpoint);
    this.inFlight = new EndpointLimiter(settings.concurrency);
    this.targets = new GroupCommit(
      async (ids) => {
        const found = await store.loadTargets(ids);
        return ids.map((id) => found.get(id) ?? null);
      },
      { maxBatch: STATEMENT_BATCH, maxInFlight: 1 },
    );
    this.successes = new GroupCommit((records) => store.recordSuccesses(records), { maxBatch: STATEMENT_BATCH, maxInFlight: 1 });
  }

  readonly handle = (job: JobContext<DeliveryJob>): Promise<void> => this.attempt(job.payload);

  /**
   * Every attempt of the job at once (within the limits). The job fails if one
   * of them could not be recorded; its next run skips those that were.
   */
  readonly handleFirstAttempts = async (job: JobContext<FirstAttemptsJob>): Promise<void> => {
    const results = await Promise.allSettled(job.payload.deliveryIds.map((deliveryId) => this.attempt({ deliveryId, replays: 0, attempt: 1 })));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  };

  private async attempt({ deliveryId, replays, attempt }: DeliveryJob): Promise<void> {
    const target = await this.targets.add(deliveryId);
    // Deleted, finished, or a stale copy of an attempt that already ran: nothing to do.
    if (!target || target.state !== 'pending' || target.replays !== replays || target.attempts !== attempt - 1) return;
    if (target.subscription.state !== 'active') {
      await this.store.markDisabled(deliveryId);
      return;
    }
    const secrets = this.subscriptions.secretsOf(target.subscription);
    // The limits are on requests in flight; recording the outcome happens outside them.
    // The endpoint's slot is taken first, so requests queued for a slow endpoint hold no process-wide slot.
    const outcome = await this.limiter.run(target.subscription.id, () =>
      this.inFlight.run('*', () =>
        this.sender.send({
          url: target.subscription.url,
          id: target.eventId,
          body: target.body,
          signature: (timestamp) => signatureHeader(secrets, target.eventId, timestamp, target.body),
        }),
      ),
    );
    const result = await this.settle(target, attempt, outcome);
    this.metrics.webhookDeliveries.inc({ result });
  }

  private async settle(target: AttemptTarget, attempt: number, outcome: SendOutcome): Promise<DeliveryResult> {
    const { subscription } = target;
    const base = { attempt, replays: target.replays, statusCode: outcome.statusCode, responseExcerpt: outcome.responseExcerpt, error: outcome.error };
    const status = outcome.statusCode;

    if (status !== null && status >= 200 && status < 300) {
      await this.successes.add({ deliveryId: target.id, attempt, replays: target.replays, statusCode: status, responseExcerpt: outcome.responseExcerpt });
      if (subscription.failingSince) await this.store.clearSubscriptionFailing(subscription.id);
      return 'success';
    }

    if (status === 410) {
      await this.store.recordAttempt(target.id, { ...base, state: 'disabled', nextAttemptAt: null });
      await this.subscriptions.disable(subscription, 'the endpoint answered 410 Gone');
      return 'gone';
    }

    const settings = this.config.webhookDelivery;
    const failingSince = await this.store.markSubscriptionFailing(subscription.id);
    const delayMs = nextAttemptDelayMs(settings.retryScheduleMs, attempt - target.runStartAttempt, outcome.retryAfterMs, settings.retryAfterMaxMs);
    if (Date.now() - failingSince.getTime() >= settings.disableAfterMs) {
      await this.store.recordAttempt(target.id, { ...base, state: 'disabled', nextAttemptAt: null });
      const reason = `every delivery has failed since ${failingSince.toISOString()}`;
      if (await this.subscriptions.disable(subscription, reason, { failingSince })) return 'failed';
      // Not disabled by this failure: another attempt did it (this delivery stays disabled with it), or the
      // subscription was re-enabled since the run of failures began, and then this delivery goes on.
      const next = { deliveryId: target.id, replays: target.replays, attempt: attempt + 1 };
      const resumed = await this.store.resumeDisabled(target.id, attempt, target.replays, delayMs === null ? null : new Date(Date.now() + delayMs));
      if (!resumed || delayMs === null) return 'failed';
      await this.queue.enqueue(WEBHOOK_DELIVERY_QUEUE, WebhookJob.Delivery, next, { jobId: deliveryJobId(next), delayMs });
      return 'retry';
    }

    if (delayMs === null) {
      await this.store.recordAttempt(target.id, { ...base, state: 'failed', nextAttemptAt: null });
      this.logger.warn({ deliveryId: target.id, eventId: target.eventId, subscriptionId: subscription.id, attempts: attempt }, 'webhook delivery failed: out of attempts');
      return outcome.forbidden ? 'refused' : 'failed';
    }
    const next = { deliveryId: target.id, replays: target.replays, attempt: attempt + 1 };
    if (await this.store.recordAttempt(target.id, { ...base, state: 'pending', nextAttemptAt: new Date(Date.now() + delayMs) })) {
      await this.queue.enqueue(WEBHOOK_DELIVERY_QUEUE, WebhookJob.Delivery, next, { jobId: deliveryJobId(next), delayMs });
    }
    return outcome.forbidden ? 'refused' : 'retry';
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent.close();
  }
}
