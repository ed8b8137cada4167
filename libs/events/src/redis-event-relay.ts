import { randomBytes } from 'node:crypto';
import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../../config/src';
import { DomainEvent } from './domain-event';
import { InProcessEventBus } from './in-process-event-bus';

const CHANNEL = 'wagw:events';
/** Every process's origin id has this length (6 random bytes in hex), so a message splits without a separator. */
const ORIGIN_LENGTH = 12;

/**
 * In distributed mode live listeners (SSE streams) may sit in another process
 * than the one that published: every process relays what it publishes over
 * Redis pub/sub and broadcasts what the others published. Durability does not
 * depend on it (webhook deliveries are recorded by the durable sinks first).
 */
@Injectable()
export class RedisEventRelay implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RedisEventRelay');
  private readonly origin = randomBytes(ORIGIN_LENGTH / 2).toString('hex');
  private publisher?: Redis;
  private subscriber?: Redis;

  constructor(
    private readonly config: AppConfig,
    private readonly bus: InProcessEventBus,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.redisUrl) return;
    // Events come in bursts (a receipt's statuses, a batch of sends): publishes of one tick share one write.
    this.publisher = new Redis(this.config.redisUrl, { connectionName: 'events-publisher', maxRetriesPerRequest: 2, enableAutoPipelining: true });
    this.subscriber = new Redis(this.config.redisUrl, { connectionName: 'events-subscriber' });
    for (const client of [this.publisher, this.subscriber]) client.on('error', (error) => this.logger.warn(`redis: ${error.message}`));
    this.subscriber.on('message', (_channel: string, raw: string) => this.receive(raw));
    await this.subscriber.subscribe(CHANNEL);
    this.bus.onPublished((event) => this.relay(event));
  }

  private relay(event: DomainEvent): void {
    this.publisher!.publish(CHANNEL, `${this.origin}${JSON.stringify(event)}`).catch((error: Error) => this.logger.warn(`event not relayed: ${error.message}`));
  }

  /** A message is this process's origin id followed by the event's JSON; a process's own events come back to it and are skipped unparsed. */
  private receive(raw: string): void {
    if (raw.startsWith(this.origin)) return;
    try {
      this.bus.broadcastLocally(JSON.parse(raw.slice(ORIGIN_LENGTH)) as DomainEvent);
    } catch (error) {
      this.logger.warn(`malformed relayed event: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.subscriber?.disconnect();
    await this.publisher?.quit().catch(() => undefined);
  }
}
