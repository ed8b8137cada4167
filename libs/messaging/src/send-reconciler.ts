import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/src/app-config';
import { MessageEvents } from './message-events';
import { MessagesRepository } from './messages.repository';
import { SendJobs } from './send-jobs';

/** Messages touched more recently than this may still be between their insert and their enqueue. */
const DEFAULT_GRACE_MS = 30_000;
const BATCH = 500;

/**
 * Makes the database and the queue agree, at start and then periodically:
 * an outgoing message still waiting to be sent must have a job. A crash
 * between insert and enqueue, or a flushed Redis, leaves one without: it is
 * enqueued again under its own job id (a no-op if the job exists). A message
 * left `sending` by a crashed worker gets its job back the same way and is
 * retried with the same WhatsApp id. One whose job the queue gave up on
 * without the handler (a worker that kept crashing mid-send) is failed into
 * the dead-letter queue with that reason.
 */
@Injectable()
export class SendReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SendReconciler');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly messages: MessagesRepository,
    private readonly jobs: SendJobs,
    private readonly events: MessageEvents,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const tick = () => {
      this.running ??= this.reconcile()
        .catch((error) => this.logger.warn(`reconcile failed: ${(error as Error).message}`))
        .finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.config.messaging.reconcileIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns what it did (tests and logs). */
  async reconcile({ graceMs = DEFAULT_GRACE_MS } = {}): Promise<{ enqueued: number; failed: number }> {
    const result = { enqueued: 0, failed: 0 };
    for (const message of await this.messages.unfinished(new Date(Date.now() - graceMs), BATCH)) {
      const job = await this.jobs.state(message);
      if (!job) {
        if ((await this.jobs.enqueue(message)).created) result.enqueued += 1;
      } else if (job.state === 'dead') {
        const failed = await this.messages.markFailed(message.id, { code: 'WORKER_LOST', message: `the queue gave up on the job: ${job.history.at(-1)?.error ?? 'its worker stopped repeatedly'}` });
        if (failed) {
          result.failed += 1;
          await this.events.failed(failed);
        }
      }
    }
    if (result.enqueued || result.failed) this.logger.log(`re-enqueued ${result.enqueued} message(s) without a job, failed ${result.failed} abandoned one(s)`);
    return result;
  }
}
