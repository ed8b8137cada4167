import { randomBytes } from 'node:crypto';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../../config/src';
import { DomainEvent } from './domain-event';
import { InProcessEventBus } from './in-process-event-bus';

const CHANNEL = 'wagw:events';

/**
 * In distributed mode live listeners (SSE streams) may sit in another process
 * than the one that published: every process relays what it publishes over
 * Redis pub/sub and broadcasts what the others published. Durability does not
 * depend on it (webhook deliveries are recorded by the durable sinks first).
 */
@Injectable()
export class RedisEventRelay implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RedisEventRelay');
  private readonly origin = randomBytes(6).toString('hex');
  private publisher?: Redis;
  private subscriber?: Redis;

  constructor(
    private readonly config: AppConfig,
    private readonly bus: InProcessEventBus,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.redisUrl) return;
    this.publisher = new Redis(this.config.redisUrl, { connectionName: 'events-publisher', maxRetriesPerRequest: 2 });
    this.subscriber = new Redis(this.config.redisUrl, { connectionName: 'events-subscriber' });
    for (const client of [this.publisher, this.subscriber]) client.on('error', (error) => this.logger.warn(`redis: ${error.message}`));
    this.subscriber.on('message', (_channel: string, raw: string) => this.receive(raw));
    await this.subscriber.subscribe(CHANNEL);
    this.bus.onPublished((event) => this.relay(event));
  }

  private relay(event: DomainEvent): void {
    this.publisher!.publish(CHANNEL, JSON.stringify({ origin: this.origin, event })).catch((error: Error) => this.logger.warn(`event not relayed: ${error.message}`));
  }

  private receive(raw: string): void {
    try {
      const { origin, event } = JSON.parse(raw) as { origin: string; event: DomainEvent };
      if (origin !== this.origin) this.bus.broadcastLocally(event);
    } catch (error) {
      this.logger.warn(`malformed relayed event: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.subscriber?.disconnect();
    await this.publisher?.quit().catch(() => undefined);
  }
}
