import { Module, type DynamicModule, type FactoryProvider, type ModuleMetadata, type OnApplicationBootstrap, type OnApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Metrics } from '../../observability/src/metrics';
import { BullmqMessageQueue } from './bullmq/bullmq-message-queue';
import { DatabaseMessageQueue } from './database/database-message-queue';
import { JobHandlerRegistry } from './job-handler-registry';
import { MessageQueue } from './message-queue';
import type { RetryPolicyConfig } from './retry-policy';

export interface MessageQueueFactoryOptions {
  /** Set: BullMQ on this Redis. Unset: the jobs table in `dataSource`. */
  redisUrl?: string;
  /** BullMQ key prefix (default `wagw`). */
  prefix?: string;
  dataSource: DataSource;
  metrics?: Metrics;
  retry?: RetryPolicyConfig;
  /** How long a running job may go without a heartbeat before another consumer takes it. */
  visibilityTimeoutMs?: number;
}

/** The one place that chooses the driver; the app composition calls it (or QueueModule does). */
export function createMessageQueue(options: MessageQueueFactoryOptions): MessageQueue {
  if (options.redisUrl) {
    return new BullmqMessageQueue({
      redis: options.redisUrl,
      prefix: options.prefix,
      metrics: options.metrics,
      retry: options.retry,
      visibilityTimeoutMs: options.visibilityTimeoutMs,
    });
  }
  return new DatabaseMessageQueue({
    dataSource: options.dataSource,
    metrics: options.metrics,
    retry: options.retry,
    visibilityTimeoutMs: options.visibilityTimeoutMs,
  });
}

export const QUEUE_JOB_NAMES = Symbol('QUEUE_JOB_NAMES');

export interface QueueModuleOptions {
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  useFactory: (...args: never[]) => MessageQueueFactoryOptions | Promise<MessageQueueFactoryOptions>;
  /** Every job name the app produces; boot fails unless each has exactly one registered handler. */
  jobNames: readonly string[];
}

/** Checks the handler registry once every module had its `onModuleInit` (where handlers register). */
@Injectable()
class JobHandlerBootCheck implements OnApplicationBootstrap {
  constructor(
    private readonly registry: JobHandlerRegistry,
    @Inject(QUEUE_JOB_NAMES) private readonly jobNames: readonly string[],
  ) {}

  onApplicationBootstrap(): void {
    this.registry.verify(this.jobNames);
  }
}

/** Closes the driver (consumers first, then connections) when the app shuts down. */
@Injectable()
class MessageQueueCloser implements OnApplicationShutdown {
  constructor(private readonly queue: MessageQueue) {}

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

/**
 * Provides `MessageQueue` (driver chosen by `createMessageQueue`) and the
 * `JobHandlerRegistry`, globally, so feature modules inject the port only.
 */
@Module({})
export class QueueModule {
  static forRootAsync(options: QueueModuleOptions): DynamicModule {
    return {
      module: QueueModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        {
          provide: MessageQueue,
          inject: options.inject ?? [],
          useFactory: async (...args: never[]) => createMessageQueue(await options.useFactory(...args)),
        },
        { provide: QUEUE_JOB_NAMES, useValue: options.jobNames },
        JobHandlerRegistry,
        JobHandlerBootCheck,
        MessageQueueCloser,
      ],
      exports: [MessageQueue, JobHandlerRegistry],
    };
  }
}
