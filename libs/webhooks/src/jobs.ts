import { hash } from 'node:crypto';

/**
 * The first attempts of deliveries fanned out together travel in one
 * `WebhookFirstAttempts` job (a few events' worth); every later attempt and
 * every replay is a `WebhookDelivery` job of its own. The fan-out queue only
 * drains jobs left by versions that fanned events out in a job of their own.
 */
export const WEBHOOK_FANOUT_QUEUE = 'webhook-fanout';
export const WEBHOOK_DELIVERY_QUEUE = 'webhook-delivery';

export const WebhookJob = { Fanout: 'WebhookFanout', FirstAttempts: 'WebhookFirstAttempts', Delivery: 'WebhookDelivery' } as const;
export const WEBHOOK_JOB_NAMES: readonly string[] = [WebhookJob.Fanout, WebhookJob.FirstAttempts, WebhookJob.Delivery];

/** First attempts of several deliveries; the job id is stored on each of them (`first_job_id`). */
export interface FirstAttemptsJob {
  deliveryIds: string[];
}

/** One attempt of one delivery; `replays` and `attempt` make each attempt's job id unique and a stale job recognisable. */
export interface DeliveryJob {
  deliveryId: string;
  replays: number;
  attempt: number;
}

/** The first attempt's job id is the delivery id; later attempts and replays get their own. */
export const deliveryJobId = (job: DeliveryJob): string =>
  job.replays === 0 && job.attempt === 1 ? job.deliveryId : `${job.deliveryId}.${job.replays}.${job.attempt}`;

/** Event ids may hold characters a queue id cannot (BullMQ refuses ':'), so the fan-out job id is a digest of it. */
export const fanoutJobId = (eventId: string): string => `event-${hash('sha256', eventId, 'base64url')}`;
