import { QueueError, QueueErrorCode } from './errors';
import type { JobContext, JobHandler } from './message-queue';
import { assertJobName } from './names';

/**
 * Maps job names to their one handler. Modules register at init; the app
 * calls `verify` with every job name it produces at boot, which fails when a
 * name has no handler. A second handler for a name fails at registration.
 * `dispatch` is a `JobHandler` for a queue that carries several job names.
 */
export class JobHandlerRegistry {
  private readonly handlers = new Map<string, JobHandler<never>>();

  register<T>(name: string, handler: JobHandler<T>): this {
    assertJobName(name);
    if (this.handlers.has(name)) {
      throw new QueueError(QueueErrorCode.DuplicateHandler, `job ${name} has two handlers; exactly one is allowed`);
    }
    this.handlers.set(name, handler as JobHandler<never>);
    return this;
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }

  get names(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** Fails listing every produced job name without a handler (and every handler nobody produces, which is dead code or a typo). */
  verify(producedJobNames: readonly string[]): void {
    const produced = new Set(producedJobNames);
    const missing = [...produced].filter((name) => !this.handlers.has(name)).sort();
    const unknown = this.names.filter((name) => !produced.has(name));
    if (missing.length > 0 || unknown.length > 0) {
      const parts = [missing.length > 0 && `no handler for ${missing.join(', ')}`, unknown.length > 0 && `handlers for unknown jobs ${unknown.join(', ')}`];
      throw new QueueError(QueueErrorCode.MissingHandler, `job handlers do not match the job names: ${parts.filter(Boolean).join('; ')}`);
    }
  }

  readonly dispatch: JobHandler = (job: JobContext) => {
    const handler = this.handlers.get(job.name);
    if (!handler) return Promise.reject(new QueueError(QueueErrorCode.UnknownJob, `no handler for job ${job.name} on ${job.queue}`));
    return handler(job as JobContext<never>);
  };
}
